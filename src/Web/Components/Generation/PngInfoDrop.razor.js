// A PNG dropped anywhere on the Generate page, or pasted, has its generation settings read (A1111's PNG Info).
// Drops on a file input or a [data-drop-zone] (the init image's) are theirs, never taken here.
let dropped = null;

const ownedElsewhere = target => target?.closest?.("input[type=file], [data-drop-zone]");
const hasFiles = e => Array.from(e.dataTransfer?.types ?? []).includes("Files");

export function attach(dotnet) {
    let depth = 0;
    const hint = on => document.body.classList.toggle("sd-png-dragging", on);
    const onEnter = e => { if (hasFiles(e)) { depth++; hint(true); } };
    const onLeave = e => { if (hasFiles(e) && --depth <= 0) { depth = 0; hint(false); } };
    const onOver = e => {
        if (!hasFiles(e) || ownedElsewhere(e.target)) return;
        e.preventDefault(); // lets the drop happen here instead of the browser opening the file
        e.dataTransfer.dropEffect = "copy";
    };
    const take = (file, e) => {
        e.preventDefault();
        dropped = file;
        dotnet.invokeMethodAsync("ReadDropped", file.name, file.size);
    };
    const onDrop = e => {
        depth = 0;
        hint(false);
        if (!hasFiles(e) || ownedElsewhere(e.target)) return;
        const file = e.dataTransfer.files[0];
        if (file) take(file, e);
    };
    // While the img2img drop zone is on the page a pasted image is its init image (the zone offers the settings too).
    const onPaste = e => {
        if (e.defaultPrevented || document.querySelector("[data-drop-zone]")) return;
        const file = Array.from(e.clipboardData?.files ?? []).find(f => f.type.startsWith("image/"));
        if (file) take(file, e);
    };
    document.addEventListener("dragenter", onEnter);
    document.addEventListener("dragleave", onLeave);
    document.addEventListener("dragover", onOver);
    document.addEventListener("drop", onDrop);
    document.addEventListener("paste", onPaste);
    return {
        detach: () => {
            document.removeEventListener("dragenter", onEnter);
            document.removeEventListener("dragleave", onLeave);
            document.removeEventListener("dragover", onOver);
            document.removeEventListener("drop", onDrop);
            document.removeEventListener("paste", onPaste);
            hint(false);
        },
    };
}

// The file just dropped, streamed to .NET (which caps the size it reads); Blazor streams a returned Blob by itself.
// None (a second call): an empty array, which .NET refuses as "not an image".
export function takeDropped() {
    const file = dropped;
    dropped = null;
    return file ?? new Uint8Array(0);
}
