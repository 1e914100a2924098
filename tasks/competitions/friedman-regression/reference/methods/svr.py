"""RBF-kernel support vector regression on standardised features; C, gamma and epsilon chosen on the dev split."""
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVR


def build():
    return make_pipeline(StandardScaler(), SVR(C=100, gamma=0.03, epsilon=0.5))
