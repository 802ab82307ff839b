using Microsoft.ML.OnnxRuntime;
using SdBlazor.Engine.Onnx;

namespace SdBlazor.Engine.Models.Sources;

/// <summary>How a converted checkpoint stores and computes its text encoders and UNet.</summary>
public enum WeightPrecision { Float32, Float16 }

/// <summary>
/// The precision a checkpoint is converted to, decided from the execution provider it will run on (issue 28, item 5).
/// CPU: always fp32, because ONNX Runtime's CPU kernels for Conv/MatMul/attention/normalisation are fp32-only and an
/// fp16 graph runs with Cast nodes around them — measured slower and larger (docs/performance.md, "fp16 on the CPU
/// provider"). DirectML/CUDA: an fp16 file stays fp16 (half the memory, the GPUs' fp16 rate). bf16 is always widened
/// (neither provider computes bf16 convolutions), and an fp32 file stays fp32. The VAE is always fp32: one call per
/// image, and SDXL's VAE overflows fp16.
/// </summary>
public static class CheckpointPrecision
{
    /// <summary>Components converted to fp16 when <see cref="WeightPrecision.Float16"/> is chosen.</summary>
    public static readonly IReadOnlySet<string> Float16Components = new HashSet<string>(StringComparer.Ordinal) { "text_encoder", "text_encoder_2", "unet" };

    /// <summary>Inputs that stay fp32 inside an fp16 graph (sinusoidal embeddings; see <see cref="Float16Graph"/>).</summary>
    public static readonly IReadOnlySet<string> Float32Inputs = new HashSet<string>(StringComparer.Ordinal) { "timestep", "time_ids" };

    public static WeightPrecision Choose(string provider, CheckpointLayout layout)
    {
        if (provider is not (SessionFactory.Cuda or SessionFactory.DirectML)) return WeightPrecision.Float32;
        long half = 0, other = 0;
        foreach (var tensor in layout.Weights.Values.Select(w => w.Tensor).DistinctBy(t => t.Name))
        {
            if (tensor.DType == SafetensorsDType.F16) half += tensor.Length;
            else other += tensor.Length;
        }
        return half > other ? WeightPrecision.Float16 : WeightPrecision.Float32;
    }

    /// <summary>
    /// The provider sessions will most likely get for <paramref name="configured"/>: the requested GPU provider when this
    /// ONNX Runtime build has it (its sessions fall back to CPU only if the device then fails), else CPU.
    /// </summary>
    public static string ExpectedProvider(ExecutionProviderKind configured) => ExpectedProvider(configured, AvailableProviders());

    public static string ExpectedProvider(ExecutionProviderKind configured, IReadOnlyCollection<string> available)
    {
        var dml = available.Contains("DmlExecutionProvider");
        var cuda = available.Contains("CUDAExecutionProvider");
        return configured switch
        {
            ExecutionProviderKind.DirectML when dml => SessionFactory.DirectML,
            ExecutionProviderKind.Cuda when cuda => SessionFactory.Cuda,
            ExecutionProviderKind.Auto when dml && OperatingSystem.IsWindows() => SessionFactory.DirectML,
            ExecutionProviderKind.Auto when cuda => SessionFactory.Cuda,
            _ => SessionFactory.Cpu,
        };
    }

    private static string[] AvailableProviders()
    {
        try
        {
            return OrtEnv.Instance().GetAvailableProviders();
        }
        catch (Exception ex) when (ex is OnnxRuntimeException or DllNotFoundException or EntryPointNotFoundException)
        {
            return [];
        }
    }
}
