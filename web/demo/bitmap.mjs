// The demo pages' image loading: a URL (fetched), a File or a Blob, decoded
// by the browser, with an error a person can act on; and the file picker
// and drop zone both pages offer.
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

// Calls use(file) with an image picked in `fileInput` or dropped on `drop`
// (which also opens the picker from the keyboard: Enter or Space).
export function onImageFile(fileInput, drop, use) {
  fileInput.addEventListener('change', (e) => {
    const f = e.target.files && e.target.files[0];
    if (f) use(f);
  });
  drop.addEventListener('keydown', (e) => { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); fileInput.click(); } });
  drop.addEventListener('dragover', (e) => { e.preventDefault(); drop.classList.add('over'); });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    drop.classList.remove('over');
    const f = e.dataTransfer && e.dataTransfer.files && e.dataTransfer.files[0];
    if (f) use(f);
  });
}
