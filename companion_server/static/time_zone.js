// The browser's time zone for the fields that ask for it: the login form sends it once (the
// portal keeps it while the user has chosen none), the profile preselects it when none is set.
(function () {
  "use strict";
  var zone = "";
  try {
    zone = Intl.DateTimeFormat().resolvedOptions().timeZone || "";
  } catch (error) {
    return;
  }
  if (!zone) {
    return;
  }
  document.querySelectorAll("input[data-browser-time-zone]").forEach(function (input) {
    input.value = zone;
  });
  document.querySelectorAll("select[data-browser-time-zone]").forEach(function (select) {
    if (select.value) {
      return; // the user's own choice stays
    }
    Array.prototype.forEach.call(select.options, function (option) {
      if (option.value === zone) {
        select.value = zone;
      }
    });
  });
})();
