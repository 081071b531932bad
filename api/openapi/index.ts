/** The API's OpenAPI document and docs page, both built from the table of routes. */
export { docsPage } from './docs-page';
export { openApiDocument } from './document';
export { ROUTES, type RouteDoc } from './routes';
