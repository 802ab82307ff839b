using System.Numerics.Tensors;

namespace SdBlazor.Engine.Pipelines;

/// <summary>diffusers' guidance: <c>uncond + scale · (cond − uncond)</c>, over the UNet output laid out [uncond…, cond…].</summary>
public static class ClassifierFreeGuidance
{
    /// <summary>Guidance runs only above 1 (diffusers' <c>do_classifier_free_guidance</c>); at or below 1 the unconditional half is not computed.</summary>
    public static bool IsEnabled(double scale) => scale > 1;

    public static void Apply(ReadOnlySpan<float> unetOutput, float scale, Span<float> destination)
    {
        var n = destination.Length;
        var uncond = unetOutput[..n];
        var cond = unetOutput.Slice(n, n);
        TensorPrimitives.Subtract(cond, uncond, destination);
        TensorPrimitives.Multiply(destination, scale, destination);
        TensorPrimitives.Add(destination, uncond, destination);
    }
}
