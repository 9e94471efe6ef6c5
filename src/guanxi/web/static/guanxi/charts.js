// Render every element with a data-figure attribute (a Plotly figure as JSON) with the locally served Plotly.
(function () {
  function render(root) {
    root.querySelectorAll("[data-figure]").forEach(function (el) {
      if (!window.Plotly || el.dataset.rendered) return;
      var figure = JSON.parse(el.dataset.figure);
      var layout = Object.assign({margin: {t: 10, r: 10, b: 40, l: 60}, height: 300, autosize: true}, figure.layout || {});
      window.Plotly.newPlot(el, figure.data, layout, {displaylogo: false, responsive: true});
      el.dataset.rendered = "1";
    });
  }
  document.addEventListener("DOMContentLoaded", function () { render(document); });
  document.addEventListener("htmx:afterSwap", function (e) { render(e.target); });
})();
