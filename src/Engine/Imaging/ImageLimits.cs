using SixLabors.ImageSharp;

namespace SdBlazor.Engine.Imaging;

/// <summary>
/// How much an untrusted image may ask for before it is decoded: pixel size from its header, and the text its
/// metadata chunks may inflate to. Defaults suit uploads and init images (16 MP, 1 MB per text chunk).
/// </summary>
public sealed record ImageLimits
{
    public static ImageLimits Default { get; } = new();

    public int MaxSide { get; init; } = 8192;
    public long MaxPixels { get; init; } = 16L * 1024 * 1024;

    /// <summary>Per text chunk, after inflating (A1111 parameters are a few KB; ComfyUI workflows rarely reach 200 KB).</summary>
    public int MaxTextChunkBytes { get; init; } = 1024 * 1024;
    public long MaxTotalTextChars { get; init; } = 4L * 1024 * 1024;
    public int MaxTextChunks { get; init; } = 256;

    /// <exception cref="InvalidImageContentException">Either side or the pixel count is over the limit.</exception>
    public void CheckSize(int width, int height)
    {
        if (width > MaxSide || height > MaxSide)
            throw new InvalidImageContentException($"The image is {width}x{height}; each side may be at most {MaxSide} pixels.");
        if ((long)width * height > MaxPixels)
            throw new InvalidImageContentException($"The image has {(long)width * height:N0} pixels; at most {MaxPixels:N0} are allowed.");
    }
}
