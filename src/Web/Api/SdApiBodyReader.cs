using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;
using SdBlazor.Web.Api.Json;
using SdBlazor.Web.Api.Models;

namespace SdBlazor.Web.Api;

/// <summary>Outcome of reading a JSON body: the value, or the error response to send instead.</summary>
public readonly record struct BodyResult<T>(T? Value, IResult? Error) where T : class;

/// <summary>
/// Reads <c>/sdapi</c> request bodies ourselves instead of through minimal-API binding, so that a body that is too
/// big gets a 413 with a message and malformed JSON or a wrongly typed field gets FastAPI's 422 <c>detail</c> list
/// (minimal APIs would answer 400 with an empty body).
/// </summary>
public sealed class SdApiBodyReader(IOptions<SdApiOptions> options)
{
    internal static readonly JsonSerializerOptions Json = new()
    {
        // A1111's field names are given by [JsonPropertyName]; unknown fields are skipped (the default).
        NumberHandling = JsonNumberHandling.AllowReadingFromString,
        AllowTrailingCommas = false,
        Converters = { new LenientInt32Converter(), new LenientInt64Converter(), new LenientBooleanConverter() },
    };

    public long Limit => options.Value.MaxRequestBodyBytes;

    public async Task<BodyResult<T>> ReadAsync<T>(HttpContext http) where T : class
    {
        var limit = Limit;
        if (http.Request.ContentLength > limit) return new(null, TooLarge(http.Request.ContentLength.Value, limit));

        // Lift Kestrel's own cap (30 MB by default) to ours for this request; we enforce ours while reading.
        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } sizeFeature)
            sizeFeature.MaxRequestBodySize = limit + 1;

        byte[] body;
        try
        {
            body = await ReadLimitedAsync(http.Request.Body, limit, http.RequestAborted);
        }
        catch (BodyTooLargeException)
        {
            return new(null, TooLarge(null, limit));
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return new(null, TooLarge(null, limit));
        }

        if (body.Length == 0 || body.AsSpan().Trim(" \t\r\n"u8).IsEmpty)
            return new(null, SdApiResults.Validation([new ValidationErrorItem(["body"], "field required", "value_error.missing")]));

        try
        {
            var value = JsonSerializer.Deserialize<T>(body, Json);
            return value is null
                ? new(null, SdApiResults.Validation([new ValidationErrorItem(["body"], "field required", "value_error.missing")]))
                : new(value, null);
        }
        catch (JsonException ex)
        {
            return new(null, SdApiResults.Validation([ToError(ex)]));
        }
    }

    private static ValidationErrorItem ToError(JsonException ex)
    {
        // Broken JSON comes from the reader (an inner JsonException); a wrongly typed field has ex.Path "$.steps".
        if (ex.InnerException is JsonException || ex.Path is null)
        {
            var position = ex.BytePositionInLine is { } col ? (object)col : 0;
            return new(["body", position], $"JSON decode error: {FirstSentence(ex.Message)}", "value_error.jsondecode");
        }
        var field = ex.Path is { Length: > 2 } path && path.StartsWith("$.", StringComparison.Ordinal) ? path[2..] : null;
        if (field is null) return new(["body"], "value is not a valid dict", "type_error.dict");
        var message = ex.InnerException?.Message ?? ex.Message;
        var isInteger = message.Contains("integer", StringComparison.OrdinalIgnoreCase) || message.Contains("Int32", StringComparison.Ordinal) || message.Contains("Int64", StringComparison.Ordinal);
        var isNumber = message.Contains("Double", StringComparison.Ordinal);
        var isBool = message.Contains("Boolean", StringComparison.Ordinal);
        return isInteger ? new(["body", field], "value is not a valid integer", "type_error.integer")
            : isNumber ? new(["body", field], "value is not a valid float", "type_error.float")
            : isBool ? new(["body", field], "value could not be parsed to a boolean", "type_error.bool")
            // The exception's own text names .NET types ("System.Collections.Generic.List`1…"): not for clients.
            : new(["body", field], "value has the wrong type", "type_error");
    }

    private static string FirstSentence(string message)
    {
        var end = message.IndexOf(". ", StringComparison.Ordinal);
        return end > 0 ? message[..end] : message.TrimEnd('.');
    }

    private static IResult TooLarge(long? length, long limit) => SdApiResults.TooLarge(
        $"The request body is {(length is { } l ? Size(l) : "larger than allowed")}; at most {Size(limit)} is accepted (setting Api:MaxRequestBodyBytes).");

    internal static string Size(long bytes) => bytes >= 1024 * 1024 ? $"{bytes / 1048576.0:0.#} MB" : $"{bytes / 1024.0:0} KB";

    private static async Task<byte[]> ReadLimitedAsync(Stream body, long limit, CancellationToken ct)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        while ((read = await body.ReadAsync(chunk, ct)) > 0)
        {
            if (buffer.Length + read > limit) throw new BodyTooLargeException();
            buffer.Write(chunk, 0, read);
        }
        return buffer.ToArray();
    }

    private sealed class BodyTooLargeException : Exception;
}
