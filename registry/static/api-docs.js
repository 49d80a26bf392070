// GET /api/docs (registry/web/docs.py): Swagger UI on the served OpenAPI description. A file of its
// own because the house CSP runs no inline script. No validator badge: it would send the
// description to validator.swagger.io.
window.addEventListener("load", () => {
  window.ui = SwaggerUIBundle({
    url: document.body.dataset.specUrl,
    dom_id: "#swagger-ui",
    deepLinking: true,
    displayOperationId: true,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
    validatorUrl: null,
    docExpansion: "list",
    defaultModelsExpandDepth: 0,
  });
});
