using System.Diagnostics;
using SdBlazor.Engine.Pipelines;
using SdBlazor.Engine.Tests.TestModels;
using SdBlazor.Shared;
using Xunit;
using Xunit.Abstractions;

namespace SdBlazor.Engine.Tests;

/// <summary>Several models kept loaded (<c>Engine:MaxLoadedModels</c>): switching back reuses the sessions, the least recently used goes first, never the one in use.</summary>
public sealed class LoadedModelsTests(ITestOutputHelper output)
{
    private static GenerationRequest Request(string model) => new() { Prompt = "a red cat", Seed = 3, Steps = 2, CfgScale = 7.5, Model = model };

    [Fact]
    public async Task Switching_back_to_a_loaded_model_reuses_its_sessions_and_the_least_recently_used_is_released_at_the_limit()
    {
        using var harness = new EngineHarness(configure: o => { o.MaxLoadedModels = 2; o.WarmUpOnLoad = false; });
        TinyModel.Create(harness.ModelsPath, "second");
        TinyModel.Create(harness.ModelsPath, "third");
        harness.Engine.RefreshModels();
        var engine = harness.Engine;

        var clock = Stopwatch.StartNew();
        (await engine.GenerateAsync(Request("tiny"), null, CancellationToken.None)).Dispose();
        var firstUse = clock.Elapsed;
        var tiny = engine.Resident!;
        clock.Restart();
        (await engine.GenerateAsync(Request("second"), null, CancellationToken.None)).Dispose();
        var switchToNew = clock.Elapsed;
        var second = engine.Resident!;
        clock.Restart();
        (await engine.GenerateAsync(Request("tiny"), null, CancellationToken.None)).Dispose();
        var switchBack = clock.Elapsed;
        output.WriteLine($"first use {firstUse.TotalMilliseconds:F0} ms, switch to an unloaded model {switchToNew.TotalMilliseconds:F0} ms, back to a loaded one {switchBack.TotalMilliseconds:F0} ms");

        Assert.Same(tiny, engine.Resident); // not loaded again
        Assert.Equal(["second", "tiny"], engine.LoadedModels().Select(m => m.Name)); // least recently used first
        Assert.All(engine.LoadedModels(), m => Assert.False(m.InUse));
        Assert.All(engine.LoadedModels(), m => Assert.True(m.LoadTime > TimeSpan.Zero));

        // A third model at the limit of two releases the least recently used ("second").
        Assert.DoesNotContain(harness.Logs.Entries, e => e.Message.Contains("unloaded"));
        (await engine.GenerateAsync(Request("third"), null, CancellationToken.None)).Dispose();
        Assert.Equal(["tiny", "third"], engine.LoadedModels().Select(m => m.Name));
        Assert.Equal("Model second unloaded", Assert.Single(harness.Logs.Entries, e => e.Message.Contains("unloaded")).Message);
        Assert.NotSame(second, engine.Resident);
    }

    [Fact]
    public async Task The_model_a_generation_uses_is_not_unloaded_and_unload_all_releases_it_when_the_run_ends()
    {
        using var harness = new EngineHarness(configure: o => o.WarmUpOnLoad = false);
        TinyModel.Create(harness.ModelsPath, "second");
        harness.Engine.RefreshModels();
        var engine = harness.Engine;
        await engine.PreloadAsync("second");

        var inStep = new TaskCompletionSource();
        var release = new TaskCompletionSource();
        var sink = new RecordingSink(_ =>
        {
            inStep.TrySetResult();
            release.Task.Wait(TimeSpan.FromSeconds(30));
        });
        var run = engine.GenerateAsync(Request("tiny") with { Steps = 3 }, sink, CancellationToken.None);
        await inStep.Task.WaitAsync(TimeSpan.FromSeconds(60));

        Assert.True(Assert.Single(engine.LoadedModels(), m => m.Name == "tiny").InUse);
        Assert.Equal(UnloadOutcome.InUse, engine.UnloadModel("tiny"));
        Assert.Equal(UnloadOutcome.Unloaded, engine.UnloadModel("second"));
        Assert.Equal(UnloadOutcome.NotLoaded, engine.UnloadModel("second"));
        engine.UnloadAll();
        Assert.Equal(["tiny"], engine.LoadedModels().Select(m => m.Name)); // still running on it

        release.SetResult();
        using (var result = await run) Assert.Single(result.Images);
        Assert.Empty(engine.LoadedModels());
    }

    [Fact]
    public async Task A_refresh_keeps_unchanged_models_loaded_and_releases_one_whose_files_changed()
    {
        using var harness = new EngineHarness(configure: o => o.WarmUpOnLoad = false);
        var secondPath = TinyModel.Create(harness.ModelsPath, "second");
        harness.Engine.RefreshModels();
        var engine = harness.Engine;
        await engine.PreloadAsync("tiny");
        await engine.PreloadAsync("second");

        engine.RefreshModels();
        Assert.Equal(["tiny", "second"], engine.LoadedModels().Select(m => m.Name));

        File.Copy(Path.Combine(secondPath, "vae_decoder", "model.onnx"), Path.Combine(secondPath, "extra.onnx"));
        engine.RefreshModels();
        Assert.Equal(["tiny"], engine.LoadedModels().Select(m => m.Name));

        Directory.Delete(harness.ModelPath, recursive: true);
        engine.RefreshModels();
        Assert.Empty(engine.LoadedModels());
    }
}
