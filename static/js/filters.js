/* Filter forms (class "filters") send only the filters in use, so the URL htmx pushes
   reads ?light=3 rather than ?owner=&stage=&light=3&product_line= . */
document.addEventListener("htmx:configRequest", function (event) {
  var form = event.detail.elt;
  if (event.detail.verb !== "get" || !form.matches || !form.matches("form.filters")) return;
  var params = event.detail.parameters;
  Array.from(params.keys()).forEach(function (key) {
    if (params.getAll(key).every(function (value) { return value === ""; })) delete params[key];
  });
});
