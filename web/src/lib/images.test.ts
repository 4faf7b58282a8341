import { describe, expect, it } from 'vitest';
import { displaySize, formatBytes, IMAGE_TEXT, imageProblem, MAX_IMAGE_BYTES, pickImageFile } from './images';

describe('photo checks', () => {
  it("accepts JPEG, PNG and WebP up to exactly 5 MiB, with the server's wording otherwise", () => {
    expect(MAX_IMAGE_BYTES).toBe(5_242_880);
    for (const type of ['image/jpeg', 'image/png', 'image/webp']) expect(imageProblem({ type, size: MAX_IMAGE_BYTES })).toBeNull();
    expect(imageProblem({ type: 'image/png', size: MAX_IMAGE_BYTES + 1 })).toBe('Image must be under 5MB.');
    expect(imageProblem({ type: 'image/gif', size: 10 })).toBe('Only JPEG, PNG, and WebP images are supported.');
    expect(imageProblem({ type: 'image/heic', size: 10 })).toBe(IMAGE_TEXT.type);
    expect(imageProblem({ type: '', size: 10 })).toBe(IMAGE_TEXT.type);
  });

  it('picks the first image of several files', () => {
    const txt = new File(['x'], 'a.txt', { type: 'text/plain' });
    const png = new File(['x'], 'b.png', { type: 'image/png' });
    expect(pickImageFile([txt, png])).toBe(png);
    expect(pickImageFile([txt])).toBe(txt); // checked (and refused) later
    expect(pickImageFile([])).toBeNull();
  });
});

describe('displaySize', () => {
  it('fits 280 x 320 keeping the aspect ratio, never upscales', () => {
    expect(displaySize(640, 480)).toEqual({ width: 280, height: 210 });
    expect(displaySize(1000, 2000)).toEqual({ width: 160, height: 320 });
    expect(displaySize(100, 50)).toEqual({ width: 100, height: 50 });
    expect(displaySize(null, null)).toEqual({ width: 240, height: 240 });
  });
});

describe('formatBytes', () => {
  it('reads like a file size', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(2048)).toBe('2 KB');
    expect(formatBytes(MAX_IMAGE_BYTES)).toBe('5.0 MB');
  });
});
