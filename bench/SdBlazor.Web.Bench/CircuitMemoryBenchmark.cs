using Microsoft.Playwright;

namespace SdBlazor.Web.Bench;

/// <summary>Server memory per connected Blazor circuit: open N Generate pages in Chromium, compare the server's managed heap and working set.</summary>
internal static class CircuitMemoryBenchmark
{
    public sealed record Result(int Circuits, double ManagedBytesPerCircuit, double WorkingSetBytesPerCircuit);

    public static async Task<Result> RunAsync(int circuits)
    {
        await using var app = new KestrelApp([]);
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new()
        {
            ExecutablePath = "/usr/bin/chromium",
            Headless = true,
            Args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
        });

        // One page first so everything lazily created once (JIT, MudBlazor statics) is not counted per circuit.
        var warm = await OpenAsync(browser, app.Address);
        var (managedBefore, workingBefore) = Measure();
        var pages = new List<IPage>();
        for (var i = 0; i < circuits; i++) pages.Add(await OpenAsync(browser, app.Address));
        await Task.Delay(1000);
        var (managedAfter, workingAfter) = Measure();
        GC.KeepAlive(warm);
        return new Result(circuits, (managedAfter - managedBefore) / (double)circuits, (workingAfter - workingBefore) / (double)circuits);
    }

    private static async Task<IPage> OpenAsync(IBrowser browser, Uri address)
    {
        var page = await browser.NewPageAsync();
        await page.GotoAsync(address.ToString());
        await page.Locator("[data-interactive='true']").WaitForAsync(new() { Timeout = 60_000 });
        return page;
    }

    private static (long Managed, long WorkingSet) Measure()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        using var process = System.Diagnostics.Process.GetCurrentProcess();
        return (GC.GetTotalMemory(forceFullCollection: true), process.WorkingSet64);
    }
}
