namespace SdBlazor.Engine.Onnx;

/// <summary>Where ONNX Runtime runs the models. <see cref="Auto"/>: DirectML on Windows, then CUDA, then CPU.</summary>
public enum ExecutionProviderKind
{
    Auto,
    DirectML,
    Cuda,
    Cpu,
}
