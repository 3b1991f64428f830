/* The "3-second" visit log: tap "visit done", tap an outcome, tap save.
   Time and customer are filled in; the position is asked for at the first tap and the
   save goes ahead without it when the browser refuses or takes too long. */
(function () {
  var button = document.getElementById("visit-done");
  var sheet = document.getElementById("visit-sheet");
  if (!button || !sheet) return;
  var form = document.getElementById("visit-form");
  var save = document.getElementById("visit-save");
  var where = document.getElementById("visit-location");
  // The record is stored in the tenant's zone: show that clock, not the phone's.
  function tenantTime(now) {
    var options = { hour: "2-digit", minute: "2-digit", hour12: false };
    try {
      return now.toLocaleTimeString(sheet.dataset.language || [], Object.assign({ timeZone: sheet.dataset.timeZone }, options));
    } catch (e) {
      return now.toLocaleTimeString([], options);
    }
  }
  function field(name) { return form.querySelector("input[name=" + name + "]"); }
  function locate() {
    field("location_status").value = "unavailable";
    sheet.dataset.location = "pending";
    if (!navigator.geolocation) { where.textContent = sheet.dataset.textUnavailable; sheet.dataset.location = "unavailable"; return; }
    where.textContent = sheet.dataset.textLocating;
    navigator.geolocation.getCurrentPosition(function (pos) {
      field("latitude").value = pos.coords.latitude.toFixed(6);
      field("longitude").value = pos.coords.longitude.toFixed(6);
      field("accuracy").value = Math.round(pos.coords.accuracy);
      field("location_status").value = "given";
      sheet.dataset.location = "given";
      where.textContent = sheet.dataset.textAt + " " + pos.coords.latitude.toFixed(4) + ", " + pos.coords.longitude.toFixed(4) + " (±" + Math.round(pos.coords.accuracy) + " m)";
    }, function (err) {
      field("location_status").value = err.code === 1 ? "refused" : "unavailable";
      sheet.dataset.location = field("location_status").value;
      where.textContent = err.code === 1 ? sheet.dataset.textRefused : sheet.dataset.textUnavailable;
    }, { timeout: 2500, maximumAge: 120000, enableHighAccuracy: false });
  }
  button.addEventListener("click", function () {
    sheet.hidden = false;
    document.getElementById("visit-time").textContent = tenantTime(new Date());
    locate();
    sheet.scrollIntoView({ block: "nearest" });
  });
  sheet.querySelectorAll("[data-outcome]").forEach(function (choice) {
    choice.addEventListener("click", function () {
      sheet.querySelectorAll("[data-outcome]").forEach(function (b) { b.setAttribute("aria-pressed", "false"); });
      choice.setAttribute("aria-pressed", "true");
      field("outcome").value = choice.dataset.outcome;
      save.disabled = false;
    });
  });
  form.addEventListener("htmx:afterRequest", function (event) {
    if (event.detail.successful) { save.disabled = true; sheet.hidden = true; }
  });
})();
