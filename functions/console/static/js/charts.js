// Charts with Chart.js (vendored, one file: vendor/chart.umd.min.js), loaded only when a view
// first draws a chart, so the first view does not wait for it. Each chart has a text summary for
// screen readers and its numbers as a table under "Show the numbers".
import { el, table } from "./ui.js";

let loading = null;
export function chartLibrary() {
  if (window.Chart) return Promise.resolve(window.Chart);
  if (!loading) {
    loading = new Promise((resolve, reject) => {
      const script = el("script", { src: new URL("../vendor/chart.umd.min.js", import.meta.url).href });
      script.addEventListener("load", () => resolve(window.Chart));
      script.addEventListener("error", () => reject(new Error("The chart library could not be loaded")));
      document.head.append(script);
    });
  }
  return loading;
}

const PALETTE = { completed: "#15803d", busy: "#b45309", "no-answer": "#6b7280", failed: "#b91c1c", canceled: "#7c3aed",
                  primary: "#1d4ed8", limit: "#b91c1c" };
export const colour = (name) => PALETTE[name] || PALETTE.primary;

// A chart panel: {title, summary(data) -> sentence, rows(data) -> [[label, ...values]], columns}
export function chartPanel(id, title) {
  const canvas = el("canvas", { id, role: "img", "aria-label": title });
  const summary = el("p", { class: "muted", "data-summary": id });
  const numbers = el("div");
  const panel = el("section", { class: "card", "aria-labelledby": `${id}-title` },
    el("h2", { id: `${id}-title`, text: title }), el("div", { class: "chart-box" }, canvas), summary,
    el("details", { class: "data" }, el("summary", { text: "Show the numbers" }), numbers));
  return { panel, canvas, summary, numbers };
}

// Draws or updates a bar chart. datasets: [{label, data, colour, type?}]
export async function drawBars(view, { labels, datasets, stacked = false, yMax, percent = false, dollars = false,
                                        caption, columns }) {
  const Chart = await chartLibrary();
  const config = {
    labels,
    datasets: datasets.map((d) => ({
      label: d.label, data: d.data, type: d.type || "bar", backgroundColor: d.colour, borderColor: d.colour,
      borderWidth: d.type === "line" ? 2 : 0, pointRadius: 0, borderDash: d.dashed ? [6, 4] : undefined,
    })),
  };
  let chart = Chart.getChart(view.canvas);
  if (chart) {
    chart.data.labels = config.labels;
    config.datasets.forEach((d, i) => { chart.data.datasets[i].data = d.data; });
    chart.update("none");
  } else {
    chart = new Chart(view.canvas, {
      type: "bar", data: config,
      options: {
        responsive: true, maintainAspectRatio: false, animation: false,
        scales: { x: { stacked, ticks: { maxRotation: 0, autoSkip: true } },
                  y: { stacked, beginAtZero: true, max: yMax, ticks: percent ? { callback: (v) => `${v}%` } : dollars ? { callback: (v) => `$${v}` } : { precision: 0 } } },
        plugins: { legend: { position: "bottom" } },
      },
    });
  }
  view.numbers.replaceChildren(table(caption, columns, labels.map((label, i) => ({ label, i })), "No data yet."));
  return chart;
}
