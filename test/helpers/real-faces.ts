// Real faces as RGB rasters of one size: the first crops of some dataset folders (grey,
// replicated to RGB) and two colour faces the detector finds in face-api's sample photo.
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { crop, decodeImageFile, resizeBilinear, type Raster } from '../../src/data/image.js';
import { detectFaces, faceModelDir } from '../../src/detect/face-api.js';

export async function realFaces(size: number, dirs: string[], perDir = 2): Promise<Raster[]> {
  const files = dirs.flatMap((d) =>
    readdirSync(d)
      .sort()
      .slice(0, perDir)
      .map((f) => join(d, f)),
  );
  const out = await Promise.all(files.map(async (f) => resizeBilinear(await decodeImageFile(f, { channels: 3 }), size, size)));
  const photo = await decodeImageFile(join(faceModelDir(), '..', 'demo', 'sample1.jpg'), { channels: 3 });
  const faces = await detectFaces(photo);
  assert.ok(faces.length >= 2, 'the sample photo has faces');
  for (const f of faces.slice(0, 2)) {
    const [x, y, w, h] = f.box.map(Math.round);
    out.push(resizeBilinear(crop(photo, x, y, w, h), size, size));
  }
  return out;
}
