namespace SdBlazor.Engine.Randomness;

/// <summary>
/// Reproduces <c>torch.Generator('cpu').manual_seed(seed)</c> + <c>torch.randn(..., dtype=float32)</c>.
/// SKELETON: the Randomness work item replaces this body.
/// </summary>
public sealed class TorchGenerator(ulong seed)
{
    public ulong Seed { get; } = seed;

    /// <summary>Fills <paramref name="destination"/> like <c>torch.randn(destination.Length)</c> would, advancing the generator.</summary>
    public void FillNormal(Span<float> destination) => throw new NotImplementedException();
}
