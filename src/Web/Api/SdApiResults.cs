using SdBlazor.Web.Api.Models;

namespace SdBlazor.Web.Api;

/// <summary>The error responses A1111 clients understand: FastAPI's 422 <c>detail</c> list, and A1111's error body for the rest.</summary>
public static class SdApiResults
{
    public static IResult Validation(IReadOnlyList<ValidationErrorItem> errors) =>
        Results.Json(new ValidationErrorResponse(errors), statusCode: StatusCodes.Status422UnprocessableEntity);

    public static IResult Validation(string field, string message, string type = "value_error") =>
        Validation([new ValidationErrorItem(["body", field], message, type)]);

    public static IResult NotFound(string detail) => Error(StatusCodes.Status404NotFound, detail);

    public static IResult TooLarge(string detail) => Error(StatusCodes.Status413PayloadTooLarge, detail);

    public static IResult Error(int status, string detail, string error = "HTTPException") =>
        Results.Json(new ApiErrorResponse(error, detail, "", ""), statusCode: status);
}
