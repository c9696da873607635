// The demo pages' image loading: a URL (fetched), a File or a Blob, decoded
// by the browser, with an error a person can act on.
export async function bitmapFrom(source) {
  if (typeof source === 'string') {
    const r = await fetch(source);
    if (!r.ok) throw new Error(`could not load ${source} (HTTP ${r.status})`);
    source = await r.blob();
  }
  try {
    return await createImageBitmap(source);
  } catch {
    throw new Error('that file is not an image this browser can decode');
  }
}
