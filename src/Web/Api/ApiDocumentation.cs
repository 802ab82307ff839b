using Scalar.AspNetCore;
using SdBlazor.Web.Sharing;

namespace SdBlazor.Web.Api;

/// <summary>OpenAPI document of every HTTP endpoint (the app's own and the A1111 subset) and an interactive page for it.</summary>
public static class ApiDocumentation
{
    public const string DocumentPath = "/openapi/v1.json";
    public const string PagePath = "/scalar";

    public static IServiceCollection AddApiDocumentation(this IServiceCollection services)
    {
        services.AddOpenApi(options => options.AddDocumentTransformer((document, _, _) =>
        {
            document.Info.Title = "SdBlazor API";
            document.Info.Description = "SdBlazor's own endpoints and an AUTOMATIC1111-compatible subset under /sdapi/v1.";
            return Task.CompletedTask;
        }));
        return services;
    }

    public static IEndpointRouteBuilder MapApiDocumentation(this IEndpointRouteBuilder app)
    {
        app.MapOpenApi(DocumentPath).RequireAuthorization(SharingPolicies.Member);
        app.MapScalarApiReference(PagePath, options => options.WithTitle("SdBlazor API").WithOpenApiRoutePattern(DocumentPath))
            .RequireAuthorization(SharingPolicies.Member);
        app.MapGet("/api-docs", () => Results.Redirect(PagePath)).ExcludeFromDescription().RequireAuthorization(SharingPolicies.Member);
        return app;
    }
}
