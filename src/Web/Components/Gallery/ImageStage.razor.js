// The viewer stage: wheel zooms (one step per notch, around nothing fancy), a mouse drag pans the scrolled stage.
export function attach(stage, dotnet) {
    const onWheel = e => {
        e.preventDefault();
        dotnet.invokeMethodAsync("ZoomBy", e.deltaY < 0 ? 1 : -1);
    };
    let drag = null;
    const onDown = e => {
        if (e.pointerType !== "mouse" || e.button !== 0) return;
        drag = { x: e.clientX, y: e.clientY, left: stage.scrollLeft, top: stage.scrollTop };
        stage.setPointerCapture(e.pointerId);
    };
    const onMove = e => {
        if (!drag) return;
        stage.scrollLeft = drag.left - (e.clientX - drag.x);
        stage.scrollTop = drag.top - (e.clientY - drag.y);
    };
    const onUp = () => { drag = null; };
    stage.addEventListener("wheel", onWheel, { passive: false });
    stage.addEventListener("pointerdown", onDown);
    stage.addEventListener("pointermove", onMove);
    stage.addEventListener("pointerup", onUp);
    stage.addEventListener("pointercancel", onUp);
    return {
        detach: () => {
            stage.removeEventListener("wheel", onWheel);
            stage.removeEventListener("pointerdown", onDown);
            stage.removeEventListener("pointermove", onMove);
            stage.removeEventListener("pointerup", onUp);
            stage.removeEventListener("pointercancel", onUp);
        },
    };
}

export async function fullScreen(element) {
    if (document.fullscreenElement) await document.exitFullscreen();
    else await element.requestFullscreen();
}
