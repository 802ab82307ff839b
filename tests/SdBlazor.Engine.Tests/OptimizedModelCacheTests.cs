using Microsoft.Extensions.Logging;
using Microsoft.ML.OnnxRuntime;
using SdBlazor.Engine.Models;
using SdBlazor.Engine.Onnx;
using SdBlazor.Engine.Tests.TestModels;
using Xunit;

namespace SdBlazor.Engine.Tests;

/// <summary>
/// The CPU provider's saved optimised graphs (<see cref="OptimizedModelCache"/>): written on the first load, used on the
/// next, never stale, and never a reason for a model not to load. Real sessions on a small convolution graph (the
/// size threshold is set to 0 here; by default only models over 64 MiB are cached).
/// </summary>
public sealed class OptimizedModelCacheTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "sdblazor-optcache-tests", Guid.NewGuid().ToString("N"));
    private readonly string _modelPath;
    private readonly string _cachePath;
    private readonly ListLogs _logs = new();

    public OptimizedModelCacheTests()
    {
        _modelPath = Path.Combine(_root, "models", "conv-model", "unet", "model.onnx");
        _cachePath = Path.Combine(_root, "cache");
        WriteConvModel(weightScale: 1f);
    }

    public void Dispose()
    {
        try { Directory.Delete(_root, recursive: true); } catch (IOException) { }
    }

    /// <summary>Conv 8→8 (3×3, 2,304 bytes of weights: stored as external data when saved) + bias + Relu.</summary>
    private void WriteConvModel(float weightScale)
    {
        var random = new Random(7);
        var b = new OnnxBuilder().Input("x", OnnxBuilder.Float, 1, 8, 16, 16).Output("y", OnnxBuilder.Float, 1, 8, 16, 16);
        var w = b.FloatConstant([.. Enumerable.Range(0, 8 * 8 * 9).Select(_ => weightScale * (float)(random.NextDouble() - 0.5))], 8, 8, 3, 3);
        var bias = b.FloatConstant([.. Enumerable.Range(0, 8).Select(i => 0.01f * i)], 8);
        var conv = b.Node("Conv", ["x", w, bias], ("pads", new long[] { 1, 1, 1, 1 }));
        b.NodeTo("Relu", [conv], "y");
        b.Save(_modelPath);
    }

    private SessionFactory Factory(Action<EngineOptions>? configure = null)
    {
        var options = new EngineOptions { ExecutionProvider = ExecutionProviderKind.Cpu, OptimizedModelCachePath = _cachePath, OptimizedModelCacheMinBytes = 0 };
        configure?.Invoke(options);
        return new SessionFactory(Microsoft.Extensions.Options.Options.Create(options), _logs.CreateLogger<SessionFactory>());
    }

    private static float[] Run(OnnxSession session)
    {
        var input = Enumerable.Range(0, 8 * 16 * 16).Select(i => MathF.Sin(i * 0.37f)).ToArray();
        using var x = OrtValue.CreateTensorValueFromMemory(input, [1, 8, 16, 16]);
        using var runOptions = new RunOptions();
        using var outputs = session.Session.Run(runOptions, ["x"], [x], ["y"]);
        return outputs[0].GetTensorDataAsSpan<float>().ToArray();
    }

    private string[] Entries() => Directory.Exists(_cachePath) ? Directory.GetDirectories(_cachePath) : [];

    [Fact]
    public void First_load_saves_the_optimised_graph_and_the_next_start_loads_it_with_the_same_results()
    {
        float[] expected;
        using (var first = Factory().Create(_modelPath, "unet"))
        {
            Assert.Equal(OptimizedCacheUse.Written, first.Cache);
            Assert.Equal(_modelPath, first.LoadedFrom);
            expected = Run(first);
        }
        var entry = Assert.Single(Entries());
        Assert.StartsWith("conv-model-unet-", Path.GetFileName(entry));
        Assert.True(File.Exists(Path.Combine(entry, OptimizedModelCache.ModelFileName)));
        Assert.True(File.Exists(Path.Combine(entry, OptimizedModelCache.DataFileName)), "initializers go to external data (an SD UNet is over 2 GB)");
        Assert.Contains(_modelPath, File.ReadAllText(Path.Combine(entry, "source.txt")));
        Assert.Empty(Directory.GetDirectories(_cachePath, ".staging-*"));

        using var next = Factory().Create(_modelPath, "unet"); // a new factory: the next start of the app
        Assert.Equal(OptimizedCacheUse.Loaded, next.Cache);
        Assert.Equal(Path.Combine(entry, OptimizedModelCache.ModelFileName), next.LoadedFrom);
        Assert.Equal(_modelPath, next.ModelPath);
        Assert.Equal(expected, Run(next));
        Assert.Contains(_logs.Entries, e => e.Level == LogLevel.Information && e.Message.Contains("saved ONNX Runtime's optimised graph"));
    }

    [Fact]
    public void A_changed_model_never_meets_its_old_entry_and_the_old_entry_is_removed()
    {
        float[] before;
        using (var first = Factory().Create(_modelPath, "unet")) before = Run(first);
        var oldEntry = Assert.Single(Entries());

        WriteConvModel(weightScale: 3f); // same path and file size, other weights
        File.SetLastWriteTimeUtc(_modelPath, DateTime.UtcNow.AddMinutes(1));
        using var changed = Factory().Create(_modelPath, "unet");

        Assert.Equal(OptimizedCacheUse.Written, changed.Cache);
        var after = Run(changed);
        Assert.NotEqual(before, after);
        var newEntry = Assert.Single(Entries());
        Assert.NotEqual(oldEntry, newEntry);

        using var uncached = Factory(o => o.OptimizedModelCache = false).Create(_modelPath, "unet");
        Assert.Equal(Run(uncached), after);
    }

    [Fact]
    public void A_damaged_entry_is_replaced_and_the_model_still_loads()
    {
        float[] expected;
        using (var first = Factory().Create(_modelPath, "unet")) expected = Run(first);
        var entry = Assert.Single(Entries());
        File.WriteAllText(Path.Combine(entry, OptimizedModelCache.ModelFileName), "not an onnx file");

        using var session = Factory().Create(_modelPath, "unet");

        Assert.Equal(OptimizedCacheUse.Written, session.Cache);
        Assert.Equal(expected, Run(session));
        Assert.Contains(_logs.Entries, e => e.Level == LogLevel.Warning && e.Message.Contains("does not load") && e.Message.Contains("optimising"));
        using var again = Factory().Create(_modelPath, "unet");
        Assert.Equal(OptimizedCacheUse.Loaded, again.Cache);
    }

    [Fact]
    public void An_unusable_cache_folder_costs_only_the_saving()
    {
        Directory.CreateDirectory(_root);
        File.WriteAllText(_cachePath, "a file where the cache folder should be");

        using var session = Factory().Create(_modelPath, "unet");

        Assert.Equal(OptimizedCacheUse.None, session.Cache);
        Assert.Equal(_modelPath, session.LoadedFrom);
        Assert.Equal(8 * 16 * 16, Run(session).Length);
        Assert.Contains(_logs.Entries, e => e.Level == LogLevel.Warning && e.Message.Contains("not saving the optimised graph"));
    }

    [Fact]
    public void Small_models_and_a_disabled_cache_write_nothing()
    {
        using (var small = Factory(o => o.OptimizedModelCacheMinBytes = 64L << 20).Create(_modelPath, "unet"))
            Assert.Equal(OptimizedCacheUse.None, small.Cache);
        using (var off = Factory(o => o.OptimizedModelCache = false).Create(_modelPath, "unet"))
            Assert.Equal(OptimizedCacheUse.None, off.Cache);
        Assert.Empty(Entries());
    }

    [Fact]
    public void A_corrupt_model_is_still_reported_as_the_models_fault()
    {
        File.WriteAllText(_modelPath, "garbage");

        var error = Assert.Throws<ModelFolderException>(() => Factory().Create(_modelPath, "unet"));

        Assert.Contains("unet: ONNX Runtime cannot load", error.Message);
        Assert.Empty(Entries());
        Assert.Empty(Directory.Exists(_cachePath) ? Directory.GetFileSystemEntries(_cachePath) : []);
    }
}
