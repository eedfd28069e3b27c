// Live progress of a job: server-sent events from /runs/ID/events (one "progress" event
// per change); the page reloads when the job has ended, to show its results. Without
// EventSource, polling the job's JSON (/api/runs/ID) every second does the same.
for (const box of document.querySelectorAll("[data-events]")) {
  const show = (s) => {
    box.querySelector("#status").textContent = s.status;
    const bar = box.querySelector("progress");
    bar.value = s.percent;
    bar.textContent = `${s.percent} %`;
    box.querySelector("#count").textContent = `${s.chunks_done} / ${s.chunks_total} ${s.units}`;
    box.querySelector("#screening").textContent = s.screening ? "(screening the population)" : "";
    box.querySelector("#job-message").textContent = s.message;
    if (!s.active) location.reload();
  };
  if (window.EventSource) {
    const source = new EventSource(box.dataset.events);
    source.addEventListener("progress", (e) => {
      const s = JSON.parse(e.data);
      if (!s.active) source.close();
      show(s);
    });
  } else {
    const url = box.dataset.events.replace(/^\/runs\/(\w+)\/events$/, "/api/runs/$1");
    const poll = async () => {
      const s = await (await fetch(url)).json();
      if (s.active) setTimeout(poll, 1000);
      show(s);
    };
    poll();
  }
}
