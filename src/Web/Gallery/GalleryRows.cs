using LiteDB;
using SdBlazor.Engine.Imaging;
using SdBlazor.Engine.Pipelines;

namespace SdBlazor.Web.Gallery;

/// <summary>Builds index rows from metadata, and gallery parameters from the engine's result.</summary>
public static class GalleryRows
{
    public static GalleryImage From(ObjectId id, DateTime createdUtc, string fileName, long fileSize, EmbeddedMetadata metadata, int width, int height)
    {
        var p = metadata.Parameters ?? new ImageParameters();
        return new GalleryImage
        {
            Id = id,
            CreatedUtc = TruncateToMilliseconds(createdUtc),
            Prompt = p.Prompt,
            NegativePrompt = p.NegativePrompt,
            Seed = p.Seed,
            Steps = p.Steps,
            CfgScale = p.CfgScale,
            Sampler = p.Sampler,
            ScheduleType = p.ScheduleType,
            // The pixels decide the size; metadata may describe a pre-upscale size.
            Width = width,
            Height = height,
            Model = p.Model,
            ModelHash = p.ShortModelHash,
            DurationMs = p.Duration?.TotalMilliseconds,
            Strength = p.Strength,
            ParentId = p.ParentId,
            Words = PromptWords.Tokenize(p.Prompt, p.NegativePrompt),
            FileName = fileName,
            FileSize = fileSize,
            Source = metadata.Source,
            TrashedUtc = GalleryFiles.IsInTrash(fileName) ? DateTime.UtcNow : null,
        };
    }

    /// <summary>The engine's resolved parameters for one image of a result (image <c>i</c> has its own seed).</summary>
    // The engine's own mapping (clip skip and emphasis were lost here while this was a copy of it), with the size of
    // the image itself.
    public static ImageParameters FromEngine(ResolvedParameters r, GeneratedImage image, string? parentId = null) =>
        (r.ToImageParameters(image.Seed) with { Width = image.Image.Width, Height = image.Image.Height, ParentId = parentId }).WithImageTools(r, image.Seed);

    public static DateTime TruncateToMilliseconds(DateTime utc) =>
        new(utc.Ticks - utc.Ticks % TimeSpan.TicksPerMillisecond, DateTimeKind.Utc);
}
