// The inpainting mask editor: a canvas at the init image's own pixel size laid over it. Strokes are drawn opaque
// (shown half transparent by CSS); the exported mask is the canvas's alpha as grey, white = repaint (A1111).
// Pointer events, so mouse, pen and touch all paint.

const UndoBudgetBytes = 96 * 1024 * 1024; // snapshots are width*height*4 bytes each
const StrokeColour = "rgb(255, 45, 85)";

const editors = new WeakMap();

export async function load(root, imageStream, dotnet) {
    const old = editors.get(root);
    if (old?.url) URL.revokeObjectURL(old.url);
    const image = root.querySelector(".sd-mask-image");
    const canvas = root.querySelector(".sd-mask-canvas");
    const url = URL.createObjectURL(new Blob([await imageStream.arrayBuffer()]));
    await new Promise((resolve, reject) => {
        image.onload = resolve;
        image.onerror = () => reject(new Error("The init image could not be shown."));
        image.src = url;
    });
    canvas.width = image.naturalWidth;
    canvas.height = image.naturalHeight;
    const state = old ?? { canvas, ctx: canvas.getContext("2d", { willReadFrequently: true }), dotnet };
    Object.assign(state, { url, undo: [], redo: [], size: state.size ?? 16, erase: false, last: null, dotnet });
    if (!old) attach(state);
    editors.set(root, state);
    report(state);
    return [canvas.width, canvas.height];
}

export function setBrush(root, size, erase) {
    const state = editors.get(root);
    if (!state) return;
    state.size = Math.max(1, size);
    state.erase = erase;
}

export function clear(root) {
    edit(root, (ctx, canvas) => ctx.clearRect(0, 0, canvas.width, canvas.height));
}

// xor with an opaque fill gives alpha 1 − a everywhere: painted becomes clear and clear becomes painted.
export function invert(root) {
    edit(root, (ctx, canvas) => {
        ctx.save();
        ctx.globalCompositeOperation = "xor";
        ctx.fillStyle = StrokeColour;
        ctx.fillRect(0, 0, canvas.width, canvas.height);
        ctx.restore();
    });
}

export function undo(root) { step(root, "undo", "redo"); }
export function redo(root) { step(root, "redo", "undo"); }

// A mask image chosen by the user (white = repaint): its brightness becomes the canvas's alpha, stretched to fit.
export async function loadMaskFile(root, input) {
    const state = editors.get(root);
    const file = input.files?.[0];
    input.value = "";
    if (!state || !file) return "";
    let bitmap;
    try {
        bitmap = await createImageBitmap(file);
    } catch {
        return `${file.name} is not an image the browser can read.`;
    }
    const { canvas } = state;
    const scratch = new OffscreenCanvas(canvas.width, canvas.height);
    const sctx = scratch.getContext("2d");
    sctx.drawImage(bitmap, 0, 0, canvas.width, canvas.height);
    bitmap.close();
    const data = sctx.getImageData(0, 0, canvas.width, canvas.height);
    const px = data.data;
    for (let i = 0; i < px.length; i += 4) {
        const grey = Math.round(0.299 * px[i] + 0.587 * px[i + 1] + 0.114 * px[i + 2]);
        px[i] = 255; px[i + 1] = 45; px[i + 2] = 85; px[i + 3] = grey;
    }
    edit(root, ctx => ctx.putImageData(data, 0, 0));
    return "";
}

// The mask as a PNG (grey = alpha), or null when nothing is painted.
export async function exportMask(root) {
    const state = editors.get(root);
    if (!state || !hasPaint(state)) return null;
    const { canvas, ctx } = state;
    const data = ctx.getImageData(0, 0, canvas.width, canvas.height);
    const px = data.data;
    for (let i = 0; i < px.length; i += 4) {
        const a = px[i + 3];
        px[i] = a; px[i + 1] = a; px[i + 2] = a; px[i + 3] = 255;
    }
    const out = new OffscreenCanvas(canvas.width, canvas.height);
    out.getContext("2d").putImageData(data, 0, 0);
    const blob = await out.convertToBlob({ type: "image/png" });
    return new Uint8Array(await blob.arrayBuffer());
}

export function dispose(root) {
    const state = editors.get(root);
    if (state?.url) URL.revokeObjectURL(state.url);
    editors.delete(root);
}

function attach(state) {
    const { canvas } = state;
    const point = e => {
        const r = canvas.getBoundingClientRect();
        return { x: (e.clientX - r.left) * canvas.width / r.width, y: (e.clientY - r.top) * canvas.height / r.height };
    };
    canvas.addEventListener("pointerdown", e => {
        if (e.button !== 0) return;
        e.preventDefault();
        canvas.setPointerCapture(e.pointerId);
        snapshot(state);
        state.last = point(e);
        stroke(state, state.last, state.last);
    });
    canvas.addEventListener("pointermove", e => {
        if (!state.last) return;
        const p = point(e);
        stroke(state, state.last, p);
        state.last = p;
    });
    const end = () => {
        if (!state.last) return;
        state.last = null;
        report(state);
    };
    canvas.addEventListener("pointerup", end);
    canvas.addEventListener("pointercancel", end);
}

function stroke(state, from, to) {
    const { ctx } = state;
    ctx.save();
    ctx.globalCompositeOperation = state.erase ? "destination-out" : "source-over";
    ctx.strokeStyle = StrokeColour;
    ctx.lineWidth = state.size;
    ctx.lineCap = "round";
    ctx.lineJoin = "round";
    ctx.beginPath();
    ctx.moveTo(from.x, from.y);
    // A click without movement still leaves a round dot.
    ctx.lineTo(to.x + (from.x === to.x && from.y === to.y ? 0.01 : 0), to.y);
    ctx.stroke();
    ctx.restore();
}

function edit(root, change) {
    const state = editors.get(root);
    if (!state) return;
    snapshot(state);
    change(state.ctx, state.canvas);
    report(state);
}

function snapshot(state) {
    const { canvas, ctx } = state;
    state.undo.push(ctx.getImageData(0, 0, canvas.width, canvas.height));
    state.redo = [];
    const limit = Math.max(1, Math.floor(UndoBudgetBytes / (canvas.width * canvas.height * 4)));
    while (state.undo.length > limit) state.undo.shift();
}

function step(root, from, to) {
    const state = editors.get(root);
    const image = state?.[from].pop();
    if (!image) return;
    const { canvas, ctx } = state;
    state[to].push(ctx.getImageData(0, 0, canvas.width, canvas.height));
    ctx.putImageData(image, 0, 0);
    report(state);
}

function hasPaint(state) {
    const { canvas, ctx } = state;
    const px = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
    for (let i = 3; i < px.length; i += 4) if (px[i] !== 0) return true;
    return false;
}

function report(state) {
    state.dotnet.invokeMethodAsync("MaskChanged", hasPaint(state), state.undo.length, state.redo.length).catch(() => { });
}
