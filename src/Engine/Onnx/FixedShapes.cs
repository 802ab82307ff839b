namespace SdBlazor.Engine.Onnx;

/// <summary>When the UNet gets a session per shape with free-dimension overrides (<see cref="UNetRunner"/>).</summary>
public enum FixedShapes
{
    /// <summary>On DirectML, whose kernels are planned for fixed shapes; one session for every shape elsewhere.</summary>
    Auto,
    /// <summary>On every provider (CPU too: tests, and measuring what it costs).</summary>
    Always,
    /// <summary>One session for every shape, DirectML included.</summary>
    Never,
}
