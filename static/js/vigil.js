// Vigil page behaviour shared by every page. Charts register themselves here.
(function () {
  "use strict";
  window.Vigil = window.Vigil || {};
})();
