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
