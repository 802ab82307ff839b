// Gallery helpers, loaded as an ES module by the gallery components.

// Calls dotnet.LoadMoreAsync whenever the element after the grid comes within 600 px of the viewport.
export function observeSentinel(element, dotnet) {
    const observer = new IntersectionObserver(entries => {
        if (entries.some(e => e.isIntersecting)) dotnet.invokeMethodAsync("LoadMoreAsync");
    }, { rootMargin: "600px" });
    observer.observe(element);
    return { disconnect: () => observer.disconnect() };
}

export async function copyText(text) {
    await navigator.clipboard.writeText(text);
}
