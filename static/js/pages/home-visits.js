import { renderPlaceholder } from "./placeholder.js";

export function render(container, ctx) {
  renderPlaceholder(container, ctx, "home-visits", { siteBound: true });
}
