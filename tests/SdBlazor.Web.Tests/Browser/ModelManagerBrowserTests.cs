using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using SdBlazor.Web.Tests.Api;
using SdBlazor.Web.Tests.Models;
using SdBlazor.Web.Tests.Support;
using Xunit.Abstractions;

namespace SdBlazor.Web.Tests.Browser;

/// <summary>
/// The owner pastes a repo id on the model manager page, watches the progress bar move (a second tab sees the same
/// progress, pushed over its own circuit), and finds the model in the list; loads and unloads models from the page.
/// </summary>
public sealed class ModelManagerBrowserTests(ITestOutputHelper output)
{
    // Records every progress value the page showed (a small download lasts seconds; polling could miss them).
    private const string ProgressRecorder = """
        window.__progress = [];
        new MutationObserver(() => {
            for (const el of document.querySelectorAll('[data-progress]')) {
                const value = el.getAttribute('data-progress');
                if (!window.__progress.includes(value)) window.__progress.push(value);
            }
        }).observe(document, { subtree: true, childList: true, attributes: true });
        """;

    // MudBlazor puts a text field's extra attributes on the input itself (v9) or its wrapper: either will do.
    private static ILocator Input(IPage page, string id) => page.Locator($"input[data-testid={id}], [data-testid={id}] input").First;

    [Fact]
    public async Task Importing_a_repo_from_the_page_shows_progress_in_both_tabs_and_lists_the_model()
    {
        await using var hub = await FakeHub.StartAsync();
        var checkpoint = ModelImportHarness.Sd15Checkpoint();
        hub.Add("someone/tiny-sd15", new FakeHub.Repo { License = "openrail++", Files = { ["tiny.safetensors"] = checkpoint } });
        hub.BytesPerSecond = Math.Max(200_000, checkpoint.Length / 4);
        var models = Directory.CreateTempSubdirectory("sdblazor-models-browser-").FullName;
        try
        {
            Directory.CreateSymbolicLink(Path.Combine(models, DefaultModel.Name), DefaultModel.Folder);
            await using var app = new AppFactory(settings: new Dictionary<string, string?>
            {
                ["Engine:ModelsPath"] = models,
                ["Engine:PreloadDefaultModel"] = "false",
                ["Engine:ArchitecturesPath"] = Path.Combine(AppContext.BaseDirectory, "Fixtures", "checkpoints", "architectures"),
                ["Models:HuggingFaceEndpoint"] = hub.Endpoint.ToString(),
            });
            app.UseKestrel();
            app.StartServer();
            var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();

            using var playwright = await Playwright.CreateAsync();
            await using var browser = await Chromium.LaunchAsync(playwright);
            var page = await browser.NewPageAsync(new() { ViewportSize = new() { Width = 1400, Height = 900 } });
            var problems = new List<string>();
            page.PageError += (_, error) => problems.Add($"page error: {error}");
            await page.AddInitScriptAsync(ProgressRecorder);

            // A second tab, open before the import starts: nothing but the push can tell it.
            var other = await browser.NewPageAsync(new() { ViewportSize = new() { Width = 1400, Height = 900 } });
            other.PageError += (_, error) => problems.Add($"second tab: {error}");
            await other.AddInitScriptAsync(ProgressRecorder);
            foreach (var tab in new[] { page, other })
            {
                await tab.GotoAsync(address.TrimEnd('/') + "/models");
                await tab.Locator("[data-interactive='true']").WaitForAsync(new() { Timeout = 60_000 });
                await tab.Locator($"[data-model='{DefaultModel.Name}']").WaitForAsync();
            }
            await Input(page, "import-source").FillAsync("someone/tiny-sd15");
            await Input(page, "import-name").FillAsync("from page");
            await page.Locator("[data-testid=import-start]").ClickAsync();

            await page.Locator("[data-state=done]").WaitForAsync(new() { Timeout = 60_000 });
            var row = page.Locator("tr").Filter(new() { Has = page.Locator("[data-model='from page']") });
            await row.WaitForAsync(new() { Timeout = 10_000 });
            var text = await row.InnerTextAsync();
            output.WriteLine(text);
            Assert.Contains("SD 1.x", text);
            Assert.Contains("openrail++", text);
            Assert.Contains("someone/tiny-sd15", text);

            var seen = await page.EvaluateAsync<string[]>("window.__progress");
            output.WriteLine("progress: " + string.Join(" ", seen));
            Assert.Contains(seen, v => double.Parse(v, System.Globalization.CultureInfo.InvariantCulture) is > 0 and < 1);
            await other.Locator("[data-state=done]").WaitForAsync(new() { Timeout = 10_000 });
            await other.Locator("[data-model='from page']").WaitForAsync(new() { Timeout = 10_000 });
            var seenInOther = await other.EvaluateAsync<string[]>("window.__progress");
            output.WriteLine("second tab: " + string.Join(" ", seenInOther));
            Assert.Contains(seenInOther, v => double.Parse(v, System.Globalization.CultureInfo.InvariantCulture) is > 0 and < 1);

            await Input(page, "model-filter").FillAsync("openrail");
            await page.Locator($"[data-model='{DefaultModel.Name}']").WaitForAsync(new() { State = WaitForSelectorState.Detached });
            Assert.Equal(1, await page.Locator("[data-model]").CountAsync());
            Assert.True(problems.Count == 0, string.Join("\n", problems));
        }
        finally
        {
            Directory.Delete(models, recursive: true);
        }
    }

    [Fact]
    public async Task Loading_and_unloading_from_the_page_shows_each_models_memory_and_follows_loads_made_elsewhere()
    {
        var models = Directory.CreateTempSubdirectory("sdblazor-models-browser-").FullName;
        try
        {
            foreach (var name in new[] { DefaultModel.Name, "second" }) Directory.CreateSymbolicLink(Path.Combine(models, name), DefaultModel.Folder);
            await using var app = new AppFactory(settings: new Dictionary<string, string?>
            {
                ["Engine:ModelsPath"] = models,
                ["Engine:PreloadDefaultModel"] = "false",
                ["Engine:WarmUpOnLoad"] = "false",
            });
            app.UseKestrel();
            app.StartServer();
            var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
            var engine = app.Services.GetRequiredService<SdBlazor.Engine.Pipelines.IGenerationEngine>();

            using var playwright = await Playwright.CreateAsync();
            await using var browser = await Chromium.LaunchAsync(playwright);
            var page = await browser.NewPageAsync(new() { ViewportSize = new() { Width = 1600, Height = 900 } });
            var problems = new List<string>();
            page.PageError += (_, error) => problems.Add($"page error: {error}");
            await page.GotoAsync(address.TrimEnd('/') + "/models");
            await page.Locator("[data-interactive='true']").WaitForAsync(new() { Timeout = 60_000 });
            var total = page.Locator("[data-testid=loaded-total]");
            Assert.Contains("Loaded: 0 model(s)", await total.InnerTextAsync());

            await page.Locator($"[data-load='{DefaultModel.Name}']").ClickAsync();
            var chip = page.Locator($"[data-loaded='{DefaultModel.Name}']");
            await chip.WaitForAsync(new() { Timeout = 60_000 });
            var resident = long.Parse((await chip.GetAttributeAsync("data-resident-bytes"))!);
            Assert.True(resident > new FileInfo(Path.Combine(DefaultModel.Folder, "unet", "model.onnx")).Length, $"{resident} bytes");
            await page.Locator("[data-load='second']").ClickAsync();
            await page.Locator("[data-loaded='second']").WaitForAsync(new() { Timeout = 60_000 });
            Assert.Contains("Loaded: 2 model(s)", await total.InnerTextAsync());
            output.WriteLine(await total.InnerTextAsync());
            Assert.Equal([DefaultModel.Name, "second"], engine.LoadedModels().Select(m => m.Name));

            await page.Locator($"[data-unload='{DefaultModel.Name}']").ClickAsync();
            await chip.WaitForAsync(new() { State = WaitForSelectorState.Detached });
            Assert.Equal(["second"], engine.LoadedModels().Select(m => m.Name));
            Assert.Contains("Loaded: 1 model(s)", await total.InnerTextAsync());

            // Loaded elsewhere (a job, the API, another tab): the page shows it without a reload.
            await app.Services.GetRequiredService<SdBlazor.Web.Generation.LoadedModelCache>().LoadAsync(DefaultModel.Name, CancellationToken.None);
            await chip.WaitForAsync(new() { Timeout = 10_000 });
            Assert.True(problems.Count == 0, string.Join("\n", problems));
        }
        finally
        {
            Directory.Delete(models, recursive: true);
        }
    }
}
