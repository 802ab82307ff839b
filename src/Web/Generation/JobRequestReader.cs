using System.Text.Json;
using System.Text.Json.Serialization;
using SdBlazor.Shared;

namespace SdBlazor.Web.Generation;

/// <summary>
/// Reads <c>POST /api/jobs</c> bodies ourselves rather than through minimal-API binding, which answers malformed JSON
/// with an empty 400 (or throws in Development) and lets <c>"prompt": null</c> through to a NullReferenceException.
/// Every problem is a 400 problem-details body naming the field, never a .NET type or a stack trace.
/// </summary>
public static class JobRequestReader
{
    // An init image is at most 10 MB; base64 makes that 13.4 MB, plus the other fields.
    public const long MaxBodyBytes = GenerationLimits.MaxInitImageBytes / 3 * 4 + 1024 * 1024;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        // "prompt": null is an error for a non-nullable string, not a null that crashes the validator later.
        RespectNullableAnnotations = true,
        NumberHandling = JsonNumberHandling.Strict,
    };

    public static async Task<(GenerationRequest? Request, IResult? Problem)> ReadAsync(HttpContext http)
    {
        if (http.Request.ContentLength > MaxBodyBytes) return (null, TooLarge());
        if (http.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size)
            size.MaxRequestBodySize = MaxBodyBytes + 1;
        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        try
        {
            while ((read = await http.Request.Body.ReadAsync(chunk, http.RequestAborted)) > 0)
            {
                if (buffer.Length + read > MaxBodyBytes) return (null, TooLarge());
                buffer.Write(chunk, 0, read);
            }
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return (null, TooLarge());
        }

        try
        {
            var request = JsonSerializer.Deserialize<GenerationRequest>(buffer.GetBuffer().AsSpan(0, (int)buffer.Length), Json);
            return request is null ? (null, Bad("The body must be a JSON object with the generation request.")) : (request, null);
        }
        catch (JsonException ex)
        {
            var field = ex.Path is { Length: > 2 } path && path.StartsWith("$.", StringComparison.Ordinal) ? path[2..] : null;
            return (null, Bad(field is null
                ? "The body is not valid JSON, or not a JSON object."
                : $"Field '{field}' has a value of the wrong type, or null where a value is required."));
        }
    }

    private static IResult Bad(string detail) =>
        Results.Problem(detail, statusCode: StatusCodes.Status400BadRequest, title: "Invalid generation request");

    private static IResult TooLarge() =>
        Results.Problem($"The request body is larger than {MaxBodyBytes / 1048576} MB.", statusCode: StatusCodes.Status413PayloadTooLarge, title: "Request too large");
}
