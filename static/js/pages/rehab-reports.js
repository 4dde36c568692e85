import { renderPlaceholder } from "./placeholder.js";

export function render(container, ctx) {
  renderPlaceholder(container, ctx, "rehab-reports");
}
