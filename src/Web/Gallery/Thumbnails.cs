using LiteDB;
using Microsoft.Extensions.Options;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Webp;
using SixLabors.ImageSharp.Processing;

namespace SdBlazor.Web.Gallery;

/// <summary>Small lossy WebP thumbnails (longest side <see cref="GalleryOptions.ThumbnailSize"/>).</summary>
public sealed class Thumbnails(IOptions<GalleryOptions> options)
{
    public GalleryThumbnail Make(ObjectId id, Image image)
    {
        var size = options.Value.ThumbnailSize;
        using var thumb = image.Width <= size && image.Height <= size
            ? image.Clone(_ => { })
            : image.Clone(x => x.Resize(new ResizeOptions { Size = new Size(size, size), Mode = ResizeMode.Max, Sampler = KnownResamplers.Triangle }));
        thumb.Metadata.ExifProfile = null;
        thumb.Metadata.XmpProfile = null;
        thumb.Metadata.IccProfile = null;
        using var ms = new MemoryStream();
        thumb.SaveAsWebp(ms, new WebpEncoder { FileFormat = WebpFileFormatType.Lossy, Quality = options.Value.ThumbnailQuality, Method = WebpEncodingMethod.Fastest });
        return new GalleryThumbnail { Id = id, Data = ms.ToArray(), ContentType = "image/webp" };
    }
}
