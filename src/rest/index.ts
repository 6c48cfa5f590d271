/**
 * `fanout/rest`: fewer and smaller requests to REST APIs, over any fetch function (global
 * `fetch`, `fanout/http`'s client, a stub in a test). Batch endpoints, field selection,
 * pagination and `Link` headers. Runtime-neutral: nothing here imports Node or a package.
 */
export {
  batchEndpoint,
  idsParam,
  UrlTooLongError,
  type BatchEndpointOptions,
  type IdsParamOptions,
  type EndpointId,
} from './batch-endpoint.js'
export {
  withFields,
  type WithFieldsOptions,
  type FieldSelection,
  type FieldList,
} from './fields.js'
export {
  paginate,
  pages,
  collectPages,
  PaginationError,
  type PaginateOptions,
  type PagesOptions,
  type PageContext,
  type PaginationFailure,
} from './paginate.js'
export {
  parseLinkHeader,
  formatLinkHeader,
  nextLink,
  type LinkEntry,
  type LinkInput,
  type NextLinkOptions,
  type HeadersLike,
  type ResponseLike,
} from './link.js'
