class FrenchUnlessChosen:
    """French unless the visitor picked another language with the switcher (cookie): the browser's
    Accept-Language alone would give English number and date formats around French text."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.META.pop("HTTP_ACCEPT_LANGUAGE", None)
        return self.get_response(request)
