// The init image drop zone: a dropped or pasted file is handed to the zone's <input type=file> (Blazor's InputFile),
// so every way in ends in the same server-side checks as "choose a file".

export function attach(zone) {
    const input = zone.querySelector("input[type=file]");
    const deliver = file => {
        const files = new DataTransfer();
        files.items.add(file);
        input.files = files.files;
        input.dispatchEvent(new Event("change", { bubbles: true }));
    };
    const carriesFiles = e => [...(e.dataTransfer?.types ?? [])].includes("Files");
    const onDragOver = e => {
        if (!carriesFiles(e)) return;
        e.preventDefault();
        e.dataTransfer.dropEffect = "copy";
        zone.classList.add("sd-dragging");
    };
    const onDragLeave = () => zone.classList.remove("sd-dragging");
    const onDrop = e => {
        zone.classList.remove("sd-dragging");
        const file = e.dataTransfer?.files?.[0];
        if (!file) return;
        e.preventDefault();
        deliver(file);
    };
    // Anywhere on the page, but only a pasted image: pasting text into the prompt stays what it was.
    const onPaste = e => {
        const file = [...(e.clipboardData?.files ?? [])].find(f => f.type.startsWith("image/"));
        if (!file) return;
        e.preventDefault();
        deliver(file);
    };
    zone.addEventListener("dragover", onDragOver);
    zone.addEventListener("dragleave", onDragLeave);
    zone.addEventListener("drop", onDrop);
    document.addEventListener("paste", onPaste);
    return {
        dispose: () => {
            zone.removeEventListener("dragover", onDragOver);
            zone.removeEventListener("dragleave", onDragLeave);
            zone.removeEventListener("drop", onDrop);
            document.removeEventListener("paste", onPaste);
        },
    };
}
