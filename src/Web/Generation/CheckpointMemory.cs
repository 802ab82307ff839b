using SdBlazor.Engine.Models.Sources;

namespace SdBlazor.Web.Generation;

/// <summary>
/// What a single-file checkpoint costs in memory before it runs: its size as the fp32 diffusers-ONNX folder it is
/// converted into (what the job estimate counts for a folder model), and the peak of that conversion on first use.
/// </summary>
public static class CheckpointMemory
{
    // Peak RSS of a first use per byte of the fp32 model, measured (docs/performance.md "Single-file checkpoints:
    // first use"): SD 1.5 fp16, 2.13 GB → 2.26 GiB = 0.57 × its 3.97 GiB fp32 model; SD 2.1-v fp32, 5.21 GB → 5.10 GiB
    // = 1.06 × 4.81 GiB, most of it the v-prediction test's UNet session, which runs only when the file does not say
    // its prediction type. Rounded up, as the job estimate's safety factor does.
    public const double ConversionPerModelByte = 0.6;
    public const double ConversionWithPredictionTestPerModelByte = 1.1;

    /// <summary>Bytes of the converted folder: the graph set's fp32 weights (weights.json total_bytes) and its graphs.</summary>
    public static long Fp32ModelBytes(CheckpointEntry entry)
    {
        if (entry.Layout is not { } layout) return 0;
        var bytes = layout.OutputBytes;
        foreach (var component in layout.GraphSet.Info.Components)
        {
            var graph = new FileInfo(layout.GraphSet.GraphPath(component));
            if (graph.Exists) bytes += graph.Length;
        }
        // A graph set without manifests says nothing: f16/bf16 weights double when widened to fp32.
        return bytes > 0 ? bytes : entry.Length * 2;
    }

    /// <summary>Peak resident bytes while converting on first use (the process's own <paramref name="runtimeBytes"/> included).</summary>
    public static long ConversionPeakBytes(CheckpointEntry entry, long runtimeBytes)
    {
        var perByte = entry.Layout?.Prediction == PredictionType.Unknown ? ConversionWithPredictionTestPerModelByte : ConversionPerModelByte;
        return runtimeBytes + (long)(perByte * Fp32ModelBytes(entry));
    }
}
