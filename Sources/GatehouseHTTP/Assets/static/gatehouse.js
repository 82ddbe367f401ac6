// Niceties only: every page works without this file.
document.addEventListener("click", (event) => {
  const opener = event.target.closest("[data-dialog]");
  if (opener) {
    const dialog = document.getElementById(opener.dataset.dialog);
    if (dialog && dialog.showModal) {
      event.preventDefault();
      if (dialog.open) dialog.close();
      dialog.showModal();
      const first = dialog.querySelector("input:not([type=hidden]), textarea");
      if (first) first.focus();
    }
  }
  const closer = event.target.closest("[data-close]");
  if (closer) {
    const dialog = document.getElementById(closer.dataset.close);
    if (dialog && dialog.close) { event.preventDefault(); dialog.close(); }
  }
  const copier = event.target.closest("[data-copy]");
  if (copier) {
    const field = document.getElementById(copier.dataset.copy);
    if (field) {
      field.select();
      if (navigator.clipboard) navigator.clipboard.writeText(field.value);
      copier.textContent = "Copied";
    }
  }
});
// A dialog the server rendered open (after an error) becomes modal, keeping what was typed.
document.addEventListener("DOMContentLoaded", () => {
  for (const dialog of document.querySelectorAll("dialog[open]")) {
    if (dialog.showModal) { dialog.close(); dialog.showModal(); }
  }
});
