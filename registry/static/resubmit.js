// After a login in place (templates/registry/login_resubmit.html): send on what was submitted
// before the idle timeout, at once. Without JavaScript the button does the same.
document.querySelectorAll("form[data-auto-submit]").forEach((form) => form.submit());
