// JSON schemas of the HTTP API's responses: they drive the OpenAPI document and Fastify's
// serialisation. Request bodies are raw image/video bytes or multipart, described in openapi.ts.
const box = { type: 'array', items: { type: 'number' }, minItems: 4, maxItems: 4, description: '[x, y, width, height] in pixels' } as const;
const probabilities = { type: 'object', additionalProperties: { type: 'number' }, description: 'probability per expression (sums to 1)' } as const;

export const errorSchema = {
  type: 'object',
  properties: { statusCode: { type: 'integer' }, error: { type: 'string' }, message: { type: 'string' } },
  required: ['statusCode', 'error', 'message'],
} as const;

const faceSchema = {
  type: 'object',
  properties: {
    faceId: { type: 'integer', description: 'the face number: 1, 2, ... in reading order (rows top to bottom, left to right)' },
    box,
    detectionScore: { type: 'number' },
    detected: { type: 'boolean', description: 'false when no face was detected and the whole picture was read as a face crop' },
    landmarks: { type: 'array', items: { type: 'array', items: { type: 'number' } }, description: '68 points (iBUG order); none when not detected' },
    probabilities,
    label: { type: 'string' },
    confidence: { type: 'number' },
  },
  required: ['faceId', 'box', 'detectionScore', 'detected', 'landmarks', 'probabilities', 'label', 'confidence'],
} as const;

export const recognizeResponse = {
  type: 'object',
  properties: {
    width: { type: 'integer' },
    height: { type: 'integer' },
    classes: { type: 'array', items: { type: 'string' } },
    engine: { type: 'string' },
    ms: { type: 'number', description: 'server time for this request, milliseconds (queueing included)' },
    faces: { type: 'array', items: faceSchema },
    droppedFaces: { type: 'integer', description: 'faces found beyond the server\'s --max-faces and left out' },
  },
  required: ['width', 'height', 'classes', 'engine', 'ms', 'faces', 'droppedFaces'],
} as const;

const timelinePoint = {
  type: 'object',
  description: 'smoothed probabilities, label and confidence; raw*: this frame\'s own output',
  properties: {
    time: { type: 'number' },
    frame: { type: 'integer' },
    box,
    detected: { type: 'boolean' },
    probabilities,
    label: { type: 'string' },
    confidence: { type: 'number' },
    rawProbabilities: probabilities,
    rawLabel: { type: 'string' },
    rawConfidence: { type: 'number' },
  },
} as const;

export const videoResponse = {
  type: 'object',
  properties: {
    width: { type: 'integer' },
    height: { type: 'integer' },
    fps: { type: 'number' },
    classes: { type: 'array', items: { type: 'string' } },
    engine: { type: 'string' },
    ms: { type: 'number' },
    temporal: { type: 'object', properties: { mode: { type: 'string' }, frames: { type: 'integer' }, tau: { type: 'number' } } },
    summary: {
      type: 'object',
      properties: {
        frames: { type: 'integer' },
        duration: { type: 'number' },
        faces: { type: 'integer' },
        framesWithFaces: { type: 'integer' },
        meanProbabilities: probabilities,
        dominantLabel: { type: ['string', 'null'] },
      },
    },
    timelines: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          faceId: { type: 'integer' },
          points: { type: 'array', items: timelinePoint },
          summary: {
            type: 'object',
            properties: {
              faceId: { type: 'integer' },
              firstTime: { type: 'number' },
              lastTime: { type: 'number' },
              frames: { type: 'integer' },
              meanProbabilities: probabilities,
              dominantLabel: { type: 'string' },
              labelShare: probabilities,
            },
          },
        },
      },
    },
  },
  required: ['width', 'height', 'fps', 'classes', 'engine', 'summary', 'timelines'],
} as const;

export const healthResponse = {
  type: 'object',
  properties: {
    status: { type: 'string' },
    engine: { type: 'string' },
    classes: { type: 'array', items: { type: 'string' } },
    modelInput: { type: 'string' },
    queue: { type: 'integer', description: 'requests waiting or running' },
    workers: { type: 'integer', description: 'threads recognising images' },
    uptime: { type: 'number' },
    apiKey: { type: 'boolean', description: 'whether /v1/* requests need an API key' },
    limits: { type: 'object', additionalProperties: { type: 'number' } },
  },
  required: ['status', 'engine', 'classes', 'queue'],
} as const;
