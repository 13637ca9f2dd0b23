import { fileTypeFromBuffer } from 'file-type';
import sharp, { type Metadata, type Sharp, type SharpOptions } from 'sharp';
import { AppError } from '../errors.js';

/**
 * Re-encoding of public images (avatars, banners, community/group icons, custom emoji).
 *
 * Everything a user uploads as a public image passes through here before it is stored:
 * the type is decided by magic bytes (never the file name or the client's Content-Type),
 * the declared dimensions are checked before any pixel is decoded, and the output is a fresh
 * encoding of the pixels only, so EXIF (GPS, camera serials), ICC profiles, comments, XMP and
 * any bytes appended to the file (polyglots) are gone.
 *
 * Output format: always WebP. Animated input (GIF or animated WebP) stays animated for
 * avatars and emoji and comes out as *animated WebP* (smaller and full-alpha compared with a
 * re-quantised GIF; supported by every browser the web app targets). Banners and icons use
 * the first frame only. `ProcessedImage.mime` still allows GIF/PNG so the store and the asset
 * route can serve them should a later kind need them.
 */

export type ImageKind = 'avatar' | 'banner' | 'icon' | 'emoji';

export interface ProcessedImage {
  data: Buffer;
  mime: 'image/webp' | 'image/gif' | 'image/png';
  /** Output width in pixels. */
  width: number;
  /** Output height in pixels (of one frame for animated images). */
  height: number;
}

const MB = 1024 * 1024;

/** Upload byte limits per kind. */
export const IMAGE_BYTE_LIMITS: Readonly<Record<ImageKind, number>> = {
  avatar: 10 * MB,
  banner: 10 * MB,
  icon: 10 * MB,
  emoji: 256 * 1024,
};

/** Most pixels (width × height × frames) a single upload may decode to. */
export const MAX_INPUT_PIXELS = 40_000_000;
/** Most frames an animated avatar or emoji may have. */
export const MAX_FRAMES = 200;
/** Hard stop for one libvips pipeline, so a pathological file cannot pin a worker thread. */
const PROCESS_TIMEOUT_SECONDS = 20;

type InputFormat = 'png' | 'jpeg' | 'webp' | 'gif';

/** Accepted magic-byte types → the sharp decoder that must agree with them. */
const ACCEPTED_MIME: Readonly<Record<string, InputFormat>> = {
  'image/png': 'png',
  'image/jpeg': 'jpeg',
  'image/webp': 'webp',
  'image/gif': 'gif',
};

const ALLOWED_FORMATS: Readonly<Record<ImageKind, readonly InputFormat[]>> = {
  avatar: ['png', 'jpeg', 'webp', 'gif'],
  banner: ['png', 'jpeg', 'webp', 'gif'],
  icon: ['png', 'jpeg', 'webp', 'gif'],
  emoji: ['png', 'gif', 'webp'],
};

interface Geometry {
  width: number;
  height: number;
  fit: 'cover' | 'inside';
  animated: boolean;
}

const GEOMETRY: Readonly<Record<ImageKind, Geometry>> = {
  avatar: { width: 512, height: 512, fit: 'cover', animated: true },
  icon: { width: 512, height: 512, fit: 'cover', animated: false },
  banner: { width: 1920, height: 1080, fit: 'inside', animated: false },
  emoji: { width: 128, height: 128, fit: 'inside', animated: true },
};

const WEBP_QUALITY = 85;

const unsupported = (message = 'The file is not a supported image') => new AppError('unsupported_image', message);
const tooLarge = (message: string) => new AppError('image_too_large', message);

/** Human-readable byte size for error messages (`256 KB`, `10 MB`). */
function formatBytes(n: number): string {
  return n >= MB ? `${Math.round(n / MB)} MB` : `${Math.round(n / 1024)} KB`;
}

/**
 * Validates and re-encodes an uploaded public image.
 *
 * Errors (all `AppError`): `image_too_large` for too many bytes, too many pixels (including
 * decompression bombs, refused from the header alone) or too many frames; `unsupported_image`
 * for anything that is not a PNG/JPEG/WebP/GIF by magic bytes (JPEG not allowed for emoji),
 * or that fails to decode (truncated, corrupt).
 */
export async function processImage(input: Uint8Array, kind: ImageKind): Promise<ProcessedImage> {
  const maxBytes = IMAGE_BYTE_LIMITS[kind];
  if (input.byteLength > maxBytes) throw tooLarge(`Images of this kind may be at most ${formatBytes(maxBytes)}`);
  if (input.byteLength === 0) throw unsupported('The file is empty');

  const format = await detectFormat(input);
  if (!format || !ALLOWED_FORMATS[kind].includes(format)) {
    throw unsupported(
      kind === 'emoji' ? 'Custom emoji must be PNG, GIF or WebP' : 'Images must be PNG, JPEG, WebP or GIF',
    );
  }

  const geometry = GEOMETRY[kind];
  const buffer = Buffer.from(input.buffer, input.byteOffset, input.byteLength);

  // Header only: nothing is decoded yet. Refuse bombs and frame floods before the real work.
  const meta = await readMetadata(buffer);
  if (meta.format !== format) throw unsupported();
  const frames = Math.max(1, meta.pages ?? 1);
  const animated = geometry.animated && frames > 1;
  if (animated && frames > MAX_FRAMES) throw tooLarge(`Animated images may have at most ${MAX_FRAMES} frames`);
  const frameWidth = meta.width;
  const frameHeight = meta.pageHeight ?? meta.height;
  if (!(frameWidth > 0 && frameHeight > 0)) throw unsupported();
  const decodedPixels = frameWidth * frameHeight * (animated ? frames : 1);
  if (decodedPixels > MAX_INPUT_PIXELS) throw tooLarge('The image has too many pixels');

  let pipeline: Sharp = sharp(buffer, decodeOptions(animated))
    .timeout({ seconds: PROCESS_TIMEOUT_SECONDS })
    // EXIF orientation first, so what is cropped/resized is the upright picture.
    .rotate()
    .resize({
      width: geometry.width,
      height: geometry.height,
      fit: geometry.fit,
      position: 'centre',
      withoutEnlargement: geometry.fit === 'inside',
    });
  // No keepMetadata()/withMetadata(): sharp writes none of the input's metadata by default.
  // Animated output keeps the input's frame delays and loop count (sharp carries them over).
  pipeline = pipeline.webp({ quality: WEBP_QUALITY, effort: 4 });

  try {
    const { data, info } = await pipeline.toBuffer({ resolveWithObject: true });
    return { data, mime: 'image/webp', width: info.width, height: info.pageHeight ?? info.height };
  } catch (err) {
    throw decodeError(err);
  }
}

/** The image type by magic bytes, or undefined when it is not one we accept. */
async function detectFormat(input: Uint8Array): Promise<InputFormat | undefined> {
  let result;
  try {
    result = await fileTypeFromBuffer(input);
  } catch {
    return undefined;
  }
  return result ? ACCEPTED_MIME[result.mime] : undefined;
}

function decodeOptions(animated: boolean): SharpOptions {
  return {
    // Abort on decode errors and truncation instead of returning half-grey pictures.
    failOn: 'error',
    // libvips re-checks the header dimensions (all frames when animated) before decoding.
    limitInputPixels: MAX_INPUT_PIXELS,
    ...(animated ? { animated: true } : { pages: 1 }),
  };
}

async function readMetadata(buffer: Buffer): Promise<Metadata & { width: number; height: number }> {
  let meta: Metadata;
  try {
    // The pixel limit is deliberately off here: we want the declared size to decide
    // between image_too_large and a decode failure, and metadata() never decodes pixels.
    meta = await sharp(buffer, { failOn: 'error', limitInputPixels: false }).metadata();
  } catch (err) {
    throw decodeError(err);
  }
  if (typeof meta.width !== 'number' || typeof meta.height !== 'number') throw unsupported();
  return meta as Metadata & { width: number; height: number };
}

/** Maps a sharp/libvips failure to the client-facing error; never leaks libvips messages. */
function decodeError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  const message = err instanceof Error ? err.message : '';
  if (/pixel limit/i.test(message)) return tooLarge('The image has too many pixels');
  if (/timeout/i.test(message)) return tooLarge('The image took too long to process');
  return unsupported('The image could not be decoded; it may be corrupt or truncated');
}
