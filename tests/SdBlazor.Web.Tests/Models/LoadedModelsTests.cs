using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using SdBlazor.Engine.Pipelines;
using SdBlazor.Shared;
using SdBlazor.Web.Generation;
using SdBlazor.Web.Tests.Api;
using Xunit.Abstractions;

namespace SdBlazor.Web.Tests.Models;

/// <summary>
/// Issue 29, memory: several models stay loaded, within the owner's memory budget as memory admission counts it;
/// a job or a load unloads the least recently used others to make room. Load/unload over <c>/api/models</c> and A1111's
/// <c>unload-checkpoint</c> / <c>reload-checkpoint</c>.
/// </summary>
[Collection(SdApiCollection.Name)]
public sealed class LoadedModelsTests(ITestOutputHelper output)
{
    private static SdApiFactory Factory(long? budget = null)
    {
        var factory = new SdApiFactory();
        factory.AddModelLink("second");
        factory.AddModelLink("third");
        factory.Settings["Engine:PreloadDefaultModel"] = "false";
        factory.Settings["Engine:WarmUpOnLoad"] = "false";
        if (budget is { } bytes) factory.Settings["Generation:MemoryBudgetBytes"] = bytes.ToString();
        return factory;
    }

    private static async Task<string[]> LoadedAsync(HttpClient api) =>
        [.. (await api.GetJsonAsync("/api/models/loaded")).Body.GetProperty("models").EnumerateArray().Select(m => m.GetProperty("name").GetString()!)];

    private static async Task Txt2ImgAsync(HttpClient api, string model, int size)
    {
        var reply = await api.PostJsonAsync("/sdapi/v1/txt2img",
            $$$"""{"prompt": "a red circle", "steps": 1, "width": {{{size}}}, "height": {{{size}}}, "override_settings": {"sd_model_checkpoint": "{{{model}}}"}}""");
        Assert.True(reply.Status == HttpStatusCode.OK, reply.Text);
    }

    [Fact]
    public async Task A_job_unloads_the_least_recently_used_model_when_the_loaded_ones_would_not_fit_beside_it()
    {
        // Budget for one job plus 1.5 loaded models, as memory admission counts them (all three names are the same folder).
        long perModel, job;
        int native;
        using (var probe = Factory())
        {
            var admission = probe.Services.GetRequiredService<MemoryAdmission>();
            var model = probe.Services.GetRequiredService<IGenerationEngine>().ListModels().First(m => m.Name == "third");
            perModel = admission.ResidentBytes(model.Path);
            job = admission.Plan(new GenerationRequest { Model = "third" }, owner: true).NeedBytes;
            native = model.NativeWidth;
        }
        var budget = job + perModel * 3 / 2;
        output.WriteLine($"per model {perModel >> 20} MiB, job {job >> 20} MiB, budget {budget >> 20} MiB");

        using var factory = Factory(budget);
        using var api = factory.Api();
        Assert.Equal(HttpStatusCode.OK, (await api.PostJsonAsync($"/api/models/{DefaultModel.Name}/load", "{}")).Status);
        Assert.Equal(HttpStatusCode.OK, (await api.PostJsonAsync("/api/models/second/load", "{}")).Status);
        Assert.Equal([DefaultModel.Name, "second"], await LoadedAsync(api));

        await Txt2ImgAsync(api, "third", native);

        // The default model was the least recently used: it made room; "second" fits beside the job.
        Assert.Equal(["second", "third"], await LoadedAsync(api));
        var report = (await api.GetJsonAsync("/api/models/loaded")).Body;
        Assert.Equal(budget, report.GetProperty("budgetBytes").GetInt64());
        Assert.Equal(2 * perModel, report.GetProperty("totalEstimatedBytes").GetInt64());
        Assert.All(report.GetProperty("models").EnumerateArray(), m => Assert.False(m.GetProperty("inUse").GetBoolean()));
    }

    [Fact]
    public async Task Models_load_and_unload_by_name_and_through_the_a1111_checkpoint_routes()
    {
        using var factory = Factory();
        using var api = factory.Api();
        Assert.Empty(await LoadedAsync(api));

        var load = await api.PostJsonAsync("/api/models/second/load", "{}");
        Assert.Equal(HttpStatusCode.OK, load.Status);
        Assert.True(load.Body.GetProperty("loaded").GetBoolean());
        var again = await api.PostJsonAsync("/api/models/second/load", "{}");
        Assert.False(again.Body.GetProperty("loaded").GetBoolean());

        // Switch times: a model not loaded yet pays for its sessions; one already loaded does not.
        var clock = Stopwatch.StartNew();
        await Txt2ImgAsync(api, "third", 64);
        var cold = clock.Elapsed;
        clock.Restart();
        await Txt2ImgAsync(api, "second", 64);
        var warm = clock.Elapsed;
        output.WriteLine($"load {load.Body.GetProperty("seconds").GetDouble():F3} s; 1-step 64² image on a model not loaded {cold.TotalMilliseconds:F0} ms, on a loaded one {warm.TotalMilliseconds:F0} ms");
        Assert.Equal(["third", "second"], await LoadedAsync(api));

        Assert.Equal(HttpStatusCode.NoContent, (await api.PostAsync("/api/models/third/unload", null)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await api.PostAsync("/api/models/third/unload", null)).StatusCode);
        Assert.Equal(["second"], await LoadedAsync(api));
        var unknown = await api.PostJsonAsync("/api/models/nope/load", "{}");
        Assert.Equal(HttpStatusCode.NotFound, unknown.Status);
        Assert.Contains("nope", unknown.Text);

        Assert.Equal(HttpStatusCode.OK, (await api.PostJsonAsync("/sdapi/v1/unload-checkpoint", "{}")).Status);
        Assert.Empty(await LoadedAsync(api));
        Assert.Equal(HttpStatusCode.OK, (await api.PostJsonAsync("/sdapi/v1/options", """{"sd_model_checkpoint": "third"}""")).Status);
        Assert.Equal(HttpStatusCode.OK, (await api.PostJsonAsync("/sdapi/v1/reload-checkpoint", "{}")).Status);
        Assert.Equal(["third"], await LoadedAsync(api));
    }
}
