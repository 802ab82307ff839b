using Microsoft.Extensions.Logging.Abstractions;
using SdBlazor.Engine.Models.Sources;
using SdBlazor.Engine.Tests.Checkpoints;
using SdBlazor.Web.Generation;

namespace SdBlazor.Web.Tests.Hubs;

/// <summary>Issue 28: the checkpoint terms of memory admission, from the file's header and graph set alone.</summary>
public sealed class CheckpointMemoryTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("ckpt-memory-").FullName;
    private readonly CheckpointLibrary _library;

    public CheckpointMemoryTests() => _library = new CheckpointLibrary(
        Path.Combine(AppContext.BaseDirectory, "Fixtures", "checkpoints", "architectures"), Path.Combine(_root, "cache"), ModelDataFiles.Default(), NullLogger.Instance);

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private CheckpointEntry Write(string name, string graphSet, string arch, string dtype)
    {
        var path = Path.Combine(_root, name + ".safetensors");
        SafetensorsWriter.Write(path, TestCheckpoints.ForGraphSet(GraphSet.Load(TestCheckpoints.GraphSetPath(graphSet)), arch, new TestCheckpoints.Options(DType: dtype)));
        return _library.Describe(path);
    }

    private static long Fp32Folder(string graphSet)
    {
        var set = GraphSet.Load(TestCheckpoints.GraphSetPath(graphSet));
        return set.Manifests.Values.Sum(m => m.TotalBytes) + set.Info.Components.Sum(c => new FileInfo(set.GraphPath(c)).Length);
    }

    [Fact]
    public void An_fp16_checkpoint_counts_as_its_fp32_folder_and_converts_at_the_measured_share_of_it()
    {
        var entry = Write("sd15", "sd15-tiny", "sd15", "F16");
        Assert.Null(entry.Error);
        var fp32 = CheckpointMemory.Fp32ModelBytes(entry);
        Assert.Equal(Fp32Folder("sd15-tiny"), fp32);
        Assert.True(fp32 > entry.Length);
        Assert.Equal(1000 + (long)(0.6 * fp32), CheckpointMemory.ConversionPeakBytes(entry, 1000));
    }

    [Fact]
    public void A_checkpoint_that_needs_the_v_prediction_test_counts_its_unet_session()
    {
        var entry = Write("sd21", "sd21-tiny", "sd21v", "F32");
        Assert.Equal(PredictionType.Unknown, entry.Layout!.Prediction);
        var fp32 = CheckpointMemory.Fp32ModelBytes(entry);
        Assert.Equal(Fp32Folder("sd21-tiny"), fp32);
        Assert.Equal(1000 + (long)(1.1 * fp32), CheckpointMemory.ConversionPeakBytes(entry, 1000));
    }

    [Fact]
    public void A_checkpoint_is_converted_only_once_its_cache_entry_is_complete()
    {
        var entry = Write("sd15", "sd15-tiny", "sd15", "F16");
        Assert.False(_library.IsConverted(entry));
        _library.Prepare(entry, progress: null, CancellationToken.None);
        Assert.True(_library.IsConverted(entry));
    }
}
