using System.Collections.Concurrent;
using SdBlazor.Engine.Imaging;
using SdBlazor.Engine.Pipelines;
using SdBlazor.Web.Generation;

namespace SdBlazor.Web.Api;

/// <summary>One finished image as the API returns it: a PNG carrying A1111's <c>parameters</c> text.</summary>
public sealed record ApiImage(int Index, long Seed, string Infotext, byte[] Png);

/// <summary>What the worker handed over for an API job.</summary>
public sealed record ApiJobOutput(ResolvedParameters Parameters, IReadOnlyList<ApiImage> Images, IReadOnlyList<string> SavedImageIds);

/// <summary>An API call waiting for its job: whether its images also go to the gallery, and (once done) its output.</summary>
public sealed class ApiJobTicket(bool saveImages)
{
    public bool SaveImages { get; } = saveImages;
    public ApiJobOutput? Output { get; internal set; }
}

/// <summary>Open tickets by job id; an API call opens one before queueing and closes it when it answers.</summary>
public sealed class ApiJobTickets
{
    private readonly ConcurrentDictionary<string, ApiJobTicket> _tickets = new();

    public ApiJobTicket Open(string jobId, bool saveImages) => _tickets[jobId] = new ApiJobTicket(saveImages);

    public ApiJobTicket? Find(string jobId) => _tickets.GetValueOrDefault(jobId);

    public void Close(string jobId) => _tickets.TryRemove(jobId, out _);
}

/// <summary>
/// Wraps the app's <see cref="IGenerationOutputStore"/> (the gallery, or the default PNG store): for a job an API call
/// waits on, it encodes the images for the response while they are still alive, and passes them on to the wrapped
/// store only when the call asked for <c>save_images</c>. Jobs without an open ticket (UI jobs, and API jobs whose
/// caller is gone, e.g. after a restart) are stored as usual, so no result is ever silently dropped.
/// </summary>
public sealed class SdApiOutputCapture(IGenerationOutputStore inner, ApiJobTickets tickets) : IGenerationOutputStore
{
    public async Task<IReadOnlyList<string>> SaveAsync(Job job, GenerationResult result, CancellationToken cancellationToken)
    {
        if (tickets.Find(job.Id) is not { } ticket) return await inner.SaveAsync(job, result, cancellationToken);

        var images = result.Images.Select(image => Encode(result.Parameters, image)).ToList();
        var saved = ticket.SaveImages ? await inner.SaveAsync(job, result, cancellationToken) : [];
        ticket.Output = new ApiJobOutput(result.Parameters, images, saved);
        return saved;
    }

    private static ApiImage Encode(ResolvedParameters parameters, GeneratedImage image)
    {
        var infotext = Infotext.Format(parameters.ToImageParameters(image.Seed));
        using var png = new MemoryStream();
        // Only A1111's chunk and no time stamp: the same request gives the same bytes.
        PngTextChunks.WritePng(image.Image, png, [new(PngTextChunks.ParametersKeyword, infotext)]);
        return new ApiImage(image.Index, image.Seed, infotext, png.ToArray());
    }
}
