using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using SdBlazor.Engine.Models.Sources;
using SdBlazor.Engine.Tests.Checkpoints;
using SdBlazor.Web.Tests.Api;
using SdBlazor.Web.Tests.Support;
using Xunit.Abstractions;

namespace SdBlazor.Web.Tests.Browser;

/// <summary>A user drops a <c>.safetensors</c> file in the models folder, picks it on the Generate page, sees the conversion's phase, then the image.</summary>
public sealed class CheckpointBrowserTests(ITestOutputHelper output)
{
    // Records every phase line the page showed (a tiny conversion lasts about a second; polling could miss it).
    private const string PhaseRecorder = """
        window.__phases = [];
        new MutationObserver(() => {
            for (const el of document.querySelectorAll('[data-phase]')) {
                const text = el.textContent.trim();
                if (text && !window.__phases.includes(text)) window.__phases.push(text);
            }
        }).observe(document, { subtree: true, childList: true, characterData: true });
        """;

    [Fact]
    public async Task A_dropped_checkpoint_is_picked_converted_with_a_visible_phase_and_generates()
    {
        var models = Directory.CreateTempSubdirectory("sdblazor-ckpt-browser-").FullName;
        try
        {
            Directory.CreateSymbolicLink(Path.Combine(models, DefaultModel.Name), DefaultModel.Folder);
            var set = GraphSet.Load(TestCheckpoints.GraphSetPath("sd15-tiny"));
            SafetensorsWriter.Write(Path.Combine(models, "my-checkpoint.safetensors"), TestCheckpoints.ForGraphSet(set, "sd15", new TestCheckpoints.Options(DType: "F16")));
            File.WriteAllBytes(Path.Combine(models, "old-model.ckpt"), [0x80, 0x02]);

            await using var app = new AppFactory(settings: new Dictionary<string, string?>
            {
                ["Engine:ModelsPath"] = models,
                ["Engine:ArchitecturesPath"] = Path.Combine(AppContext.BaseDirectory, "Fixtures", "checkpoints", "architectures"),
                ["Engine:CheckpointCachePath"] = Path.Combine(models, "..", Path.GetFileName(models) + "-cache"),
            });
            app.UseKestrel();
            app.StartServer();
            var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();

            using var playwright = await Playwright.CreateAsync();
            await using var browser = await Chromium.LaunchAsync(playwright);
            var page = await browser.NewPageAsync(new() { ViewportSize = new() { Width = 1280, Height = 900 } });
            var problems = new List<string>();
            page.PageError += (_, error) => problems.Add($"page error: {error}");
            await page.AddInitScriptAsync(PhaseRecorder);

            await page.GotoAsync(address);
            await page.Locator("[data-interactive='true']").WaitForAsync(new() { Timeout = 60_000 });
            await page.Locator(".mud-select").Filter(new() { HasText = "Model" }).First.ClickAsync();
            var broken = page.GetByRole(AriaRole.Option).Filter(new() { HasText = "old-model" });
            await broken.WaitForAsync(new() { Timeout = 10_000 });
            Assert.Contains("cannot be used", await broken.InnerTextAsync());
            Assert.Contains("pickle", await broken.Locator("[title]").GetAttributeAsync("title"));
            await page.GetByRole(AriaRole.Option).Filter(new() { HasText = "my-checkpoint" }).ClickAsync();

            await page.GetByLabel("Prompt", new() { Exact = true }).FillAsync("a red circle");
            await page.GetByLabel("Steps", new() { Exact = true }).FillAsync("2");
            await page.GetByRole(AriaRole.Button, new() { Name = "Generate", Exact = true }).ClickAsync();

            var finalImage = page.Locator("img[alt^='Generated image']").First;
            await finalImage.WaitForAsync(new() { Timeout = 180_000 });
            var phases = await page.EvaluateAsync<string[]>("window.__phases");
            output.WriteLine("phases: " + string.Join(" | ", phases));
            // Which component is on screen when the page samples depends on speed (the tiny UNet converts in
            // milliseconds on an idle machine): any named conversion phase shows the user what is happening.
            Assert.Contains(phases, p => p.StartsWith("Converting ", StringComparison.Ordinal) && p.Contains('/'));
            Assert.True(problems.Count == 0, string.Join("\n", problems));
        }
        finally
        {
            Directory.Delete(models, recursive: true);
            var cache = Path.Combine(Path.GetDirectoryName(models)!, Path.GetFileName(models) + "-cache");
            if (Directory.Exists(cache)) Directory.Delete(cache, recursive: true);
        }
    }
}
