// Live share links: poll the share's own state endpoint and swap in the newest preview frame.
// Only URLs under the share link are used; nothing here can reach the generation hub or queue.
(() => {
    const box = document.querySelector('[data-live-base]');
    if (!box) return;
    const base = box.getAttribute('data-live-base');
    const img = document.getElementById('sd-live-frame');
    const status = document.getElementById('sd-live-status');
    let shown = '';
    async function tick() {
        try {
            const response = await fetch(base + '/state', { cache: 'no-store', credentials: 'same-origin' });
            if (response.status === 404) { status.textContent = 'This link is no longer available.'; img.hidden = true; return; }
            const state = await response.json();
            if (state.running && state.frame > 0) {
                const key = state.generation + '-' + state.frame;
                if (key !== shown) { img.src = base + '/frame?v=' + key; shown = key; }
                img.hidden = false;
                status.textContent = 'Generating: step ' + state.step + ' of ' + state.steps;
            } else if (!state.running) {
                status.textContent = shown ? 'Finished. Waiting for the next generation…' : 'Waiting for the next generation…';
            }
        } catch (e) {
            status.textContent = 'Connection lost; retrying…';
        }
        setTimeout(tick, 400);
    }
    tick();
})();
