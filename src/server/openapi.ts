// The upload endpoints take raw bytes or multipart, which Fastify's body schemas cannot express
// without validating (and rejecting) a Buffer: their request bodies are added to the generated
// OpenAPI document here.
import type { ServerLimits } from './limits.js';

const body = (kinds: string[], what: string, maxBytes: number) => ({
  required: true,
  description: `The ${what} as the raw request body or as the file of a multipart form (at most ${maxBytes} bytes)`,
  content: {
    ...Object.fromEntries(kinds.map((k) => [k, { schema: { type: 'string', format: 'binary' } }])),
    'multipart/form-data': { schema: { type: 'object', properties: { file: { type: 'string', format: 'binary' } }, required: ['file'] } },
  },
});

export function addRequestBodies(doc: Record<string, unknown>, limits: ServerLimits): Record<string, unknown> {
  const out = structuredClone(doc) as { paths?: Record<string, Record<string, Record<string, unknown>>> };
  const image = out.paths?.['/v1/recognize']?.post;
  if (image) image.requestBody = body(['image/jpeg', 'image/png', 'image/webp', 'application/octet-stream'], 'image', limits.maxImageBytes);
  const video = out.paths?.['/v1/recognize-video']?.post;
  if (video) video.requestBody = body(['video/mp4', 'video/webm', 'video/quicktime', 'application/octet-stream'], 'video', limits.maxVideoBytes);
  return out as Record<string, unknown>;
}
