// <select data-auto-submit> submits its form when its value changes (the workspace switcher).
// A static file rather than an inline onchange: the Content-Security-Policy allows no inline script.
document.addEventListener("change", (event) => {
  const field = event.target;
  if (field instanceof HTMLSelectElement && field.hasAttribute("data-auto-submit") && field.form) {
    field.form.requestSubmit();
  }
});
