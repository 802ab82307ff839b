using SdBlazor.Web.Api.Models;

namespace SdBlazor.Web.Api;

/// <summary>Routes of <see cref="SdApiExtras"/> inside the <c>/sdapi/v1</c> group (its auth and error filters apply).</summary>
public static class SdApiExtrasEndpoints
{
    public static RouteGroupBuilder MapSdApiExtras(this RouteGroupBuilder api)
    {
        api.MapPost("/extra-single-image", async (HttpContext http, SdApiBodyReader reader, SdApiExtras extras) =>
            {
                var body = await reader.ReadAsync<ExtrasSingleImageRequest>(http);
                return body.Error ?? await extras.SingleAsync(body.Value!, http.RequestAborted);
            })
            .WithSummary("Upscale one image").Accepts<ExtrasSingleImageRequest>("application/json")
            .Produces<ExtrasSingleImageResponse>().Produces<ValidationErrorResponse>(StatusCodes.Status422UnprocessableEntity)
            .Produces<ApiErrorResponse>(StatusCodes.Status413PayloadTooLarge);

        api.MapPost("/extra-batch-images", async (HttpContext http, SdApiBodyReader reader, SdApiExtras extras) =>
            {
                var body = await reader.ReadAsync<ExtrasBatchImagesRequest>(http);
                return body.Error ?? await extras.BatchAsync(body.Value!, http.RequestAborted);
            })
            .WithSummary("Upscale several images").Accepts<ExtrasBatchImagesRequest>("application/json")
            .Produces<ExtrasBatchImagesResponse>().Produces<ValidationErrorResponse>(StatusCodes.Status422UnprocessableEntity)
            .Produces<ApiErrorResponse>(StatusCodes.Status413PayloadTooLarge);
        return api;
    }
}
