// Gallery helpers, loaded as an ES module by GalleryBrowser and ImageDetail.

// Calls dotnet.LoadMoreAsync whenever the element after the grid comes within 600 px of the viewport.
export function observeSentinel(element, dotnet) {
    const observer = new IntersectionObserver(entries => {
        if (entries.some(e => e.isIntersecting)) dotnet.invokeMethodAsync("LoadMoreAsync");
    }, { rootMargin: "600px" });
    observer.observe(element);
    return { disconnect: () => observer.disconnect() };
}

// True when the text is on the clipboard. The Clipboard API exists only in secure contexts (https, localhost):
// on a plain-HTTP LAN address navigator.clipboard is undefined, so the old execCommand("copy") is tried; when that
// is refused too the caller shows the text in a selectable field instead.
export async function copyText(text) {
    if (window.isSecureContext && navigator.clipboard?.writeText) {
        try {
            await navigator.clipboard.writeText(text);
            return true;
        } catch {
            // Permission refused: try the old way.
        }
    }
    const area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.style.position = "fixed";
    area.style.opacity = "0";
    document.body.appendChild(area);
    area.select();
    let copied = false;
    try {
        copied = document.execCommand("copy");
    } catch {
        copied = false;
    }
    area.remove();
    return copied;
}

export function selectAll(element) {
    if (!element) return;
    element.focus();
    element.select();
}

// The open viewer's previous/next: arrow keys (not while typing in a field) and a horizontal touch swipe on the
// picture when it is fitted (zoomed in, a drag pans instead).
export function viewerNavigation(dotnet) {
    const typing = t => t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName));
    const onKey = e => {
        if (e.defaultPrevented || e.altKey || e.ctrlKey || e.metaKey || typing(e.target)) return;
        if ((e.key !== "ArrowLeft" && e.key !== "ArrowRight") || !document.querySelector(".sd-viewer")) return;
        e.preventDefault();
        dotnet.invokeMethodAsync("StepViewer", e.key === "ArrowRight" ? 1 : -1);
    };
    let start = null;
    const onDown = e => {
        start = e.pointerType === "touch" && e.target.closest?.(".sd-viewer-fit") ? { x: e.clientX, y: e.clientY } : null;
    };
    const onUp = e => {
        if (!start) return;
        const dx = e.clientX - start.x, dy = e.clientY - start.y;
        start = null;
        if (Math.abs(dx) > 60 && Math.abs(dx) > 2 * Math.abs(dy)) dotnet.invokeMethodAsync("StepViewer", dx < 0 ? 1 : -1);
    };
    document.addEventListener("keydown", onKey);
    document.addEventListener("pointerdown", onDown);
    document.addEventListener("pointerup", onUp);
    return {
        disconnect: () => {
            document.removeEventListener("keydown", onKey);
            document.removeEventListener("pointerdown", onDown);
            document.removeEventListener("pointerup", onUp);
        },
    };
}
