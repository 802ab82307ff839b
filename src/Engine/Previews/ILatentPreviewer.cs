namespace SdBlazor.Engine.Previews;

/// <summary>Turns latents into a small preview image cheaply (no VAE).</summary>
public interface ILatentPreviewer
{
    /// <summary>Encodes image <paramref name="batchItem"/> of <paramref name="latents"/> [batch, 4, h, w] as JPEG bytes.</summary>
    byte[] RenderJpeg(ReadOnlySpan<float> latents, int batchItem, int latentHeight, int latentWidth);
}
